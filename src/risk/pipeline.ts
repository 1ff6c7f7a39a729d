import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import { CommitRefused } from "../store/types.js";
import { mergeWrites, noWrites, type PipelineResult, type RiskContext, type RiskObserver, type RiskOutcome, type RiskRequest, type RiskStage, type RiskWrites } from "./types.js";
import { CounterReads, type CounterRead, type WindowCounter } from "./window-counter.js";

/** No reads (a request whose stages declare none). */
const NO_READS = new CounterReads([], []);

/** How many times a request is decided again after its commit was refused, before it is refused itself. */
const MAX_RETRIES = 8;

/**
 * The runner: the only place that knows the order of the stages. It runs each stage that applies,
 * stops at the first block, and honours shadow mode (a shadowed stage's block is recorded on the
 * context and the request goes on).
 *
 * Reads and writes: before the first stage that declares reads, the runner fetches the reads of that
 * stage, of every later stage that will run and of the observers, in one batch (one statement, or one
 * Redis round trip). Stages decide from them and return their writes; the runner collects the writes
 * and hands them back with the decision, for the lifecycle to commit with the request.
 *
 * Gates: the limits and the spend budget are decided from those reads and taken in the request's
 * commit, bounded (store/types.ts's RiskWrites). When other requests took them in between, the commit
 * writes nothing and is refused; {@link decide} then decides the request again on fresh reads, where
 * the overtaken stage sees what happened and blocks (or, the window having moved, allows).
 */
export class RiskPipeline {
  constructor(
    private readonly stages: RiskStage[],
    private readonly clock: Clock,
    private readonly observers: RiskObserver[] = [],
    /** Where the stages' counters are read (and, for {@link run}, written). */
    private readonly counter?: WindowCounter,
  ) {}

  get stageNames(): string[] {
    return this.stages.map((s) => s.name);
  }

  /** The stages in order, read-only (`npm run bench` times each one alone). */
  get stageList(): readonly RiskStage[] {
    return this.stages;
  }

  /** Decides a request: the decision, the stage that blocked, and the writes the stages returned. */
  async evaluate(req: RiskRequest, retry = 0): Promise<PipelineResult> {
    const ctx: RiskContext = { ...req, now: this.clock.now(), retry, shadow: [] };
    const shadowed = new Set(req.service.riskSettings.shadowStages ?? []);
    const writes = noWrites();
    let reads: CounterReads | null = null;
    for (const [i, stage] of this.stages.entries()) {
      if (!this.runs(stage, ctx)) continue;
      if (!reads && stage.reads) reads = await this.fetchReads(ctx, i);
      const decision = await stage.evaluate(ctx, reads ?? NO_READS);
      mergeWrites(writes, decision.writes);
      if (decision.action === "allow") continue;
      if (shadowed.has(stage.name)) {
        ctx.shadow.push({ stage: stage.name, code: decision.code, reason: decision.reason });
        continue;
      }
      return { ctx, decision, stage: stage.name, writes, reads: reads ?? NO_READS };
    }
    return { ctx, decision: { action: "allow" }, stage: null, writes, reads: reads ?? (await this.fetchReads(ctx, this.stages.length)) };
  }

  /**
   * Decides a request and hands the result to `commit`, which commits it (the lifecycle's start and
   * check). When the commit is refused (a gate taken by other requests meanwhile: nothing was written),
   * what the stages took at once is given back and the request is decided again on fresh reads, up to
   * {@link MAX_RETRIES} times; a request still overtaken then is refused as the gate would refuse it.
   */
  async decide<T>(req: RiskRequest, commit: (r: PipelineResult) => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      const r = await this.evaluate(req, retry);
      try {
        return await commit(r);
      } catch (err) {
        if (!(err instanceof CommitRefused)) throw err;
        await this.giveBack(r.ctx, true);
        if (retry === MAX_RETRIES) throw new AppError(err.gate === "spend" ? "SPEND_LIMIT_REACHED" : "RATE_LIMITED", undefined, { retryAfterSeconds: 1 });
      }
    }
  }

  /**
   * The observers' writes for an outcome of an allowed request, planned from the request's reads, and
   * what they do once it committed (run by the caller after the commit).
   */
  async plan(outcome: RiskOutcome, reads: CounterReads): Promise<{ writes: RiskWrites; afterCommit: (() => Promise<void>)[] }> {
    const writes = noWrites();
    const afterCommit: (() => Promise<void>)[] = [];
    for (const o of this.observers) {
      const p = await o.plan(outcome, reads);
      mergeWrites(writes, p);
      if (p.afterCommit) afterCommit.push(p.afterCommit);
    }
    return { writes, afterCommit };
  }

  /**
   * What the stages took at once for a request (limits consumed in Redis) goes back: the failed-check
   * part when a check was no failed attempt, or `all` of it when its commit was refused.
   */
  async giveBack(ctx: RiskContext, all = false): Promise<void> {
    for (const stage of this.stages) await stage.giveBack?.(ctx, all);
  }

  /** Tells every observer what happened, each applying its own writes at once (tests and tools). */
  async observe(outcome: RiskOutcome): Promise<void> {
    for (const o of this.observers) await o.observe(outcome);
  }

  /** One stage's reads alone (`npm run bench` times each stage's decision apart from its read). */
  async readsOf(stage: RiskStage, ctx: RiskContext): Promise<CounterReads> {
    const list = stage.reads ? await stage.reads(ctx) : [];
    return list.length && this.counter ? CounterReads.fetch(this.counter, list) : NO_READS;
  }

  private runs(stage: RiskStage, ctx: RiskContext): boolean {
    return stage.appliesTo.includes(ctx.kind) && !(stage.fraud && (ctx.trusted || !ctx.riskCheck));
  }

  /** The reads of the stages from `from` on that will run, and of the observers, in one batch. */
  private async fetchReads(ctx: RiskContext, from: number): Promise<CounterReads> {
    const list: CounterRead[] = [];
    for (const stage of this.stages.slice(from)) if (stage.reads && this.runs(stage, ctx)) list.push(...(await stage.reads(ctx)));
    if (ctx.kind === "START") for (const o of this.observers) if (o.reads) list.push(...o.reads(ctx));
    if (list.length === 0 || !this.counter) return NO_READS;
    return CounterReads.fetch(this.counter, list);
  }
}
