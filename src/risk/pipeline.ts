import type { Clock } from "../clock.js";
import type { PipelineResult, RiskContext, RiskObserver, RiskOutcome, RiskRequest, RiskStage } from "./types.js";

/**
 * The runner: the only place that knows the order of the stages. It runs each stage that applies,
 * stops at the first block, and honours shadow mode (a shadowed stage's block is recorded on the
 * context and the request goes on).
 */
export class RiskPipeline {
  constructor(
    private readonly stages: RiskStage[],
    private readonly clock: Clock,
    private readonly observers: RiskObserver[] = [],
  ) {}

  get stageNames(): string[] {
    return this.stages.map((s) => s.name);
  }

  /** The stages in order, read-only (`npm run bench` times each one alone). */
  get stageList(): readonly RiskStage[] {
    return this.stages;
  }

  async evaluate(req: RiskRequest): Promise<PipelineResult> {
    const ctx: RiskContext = { ...req, now: this.clock.now(), shadow: [] };
    const shadowed = new Set(req.service.riskSettings.shadowStages ?? []);
    for (const stage of this.stages) {
      if (!stage.appliesTo.includes(req.kind)) continue;
      if (stage.fraud && (ctx.trusted || !ctx.riskCheck)) continue;
      const decision = await stage.evaluate(ctx);
      if (decision.action === "allow") continue;
      if (shadowed.has(stage.name)) {
        ctx.shadow.push({ stage: stage.name, code: decision.code, reason: decision.reason });
        continue;
      }
      return { ctx, decision, stage: stage.name };
    }
    return { ctx, decision: { action: "allow" }, stage: null };
  }

  /**
   * A request the pipeline allowed was not what its stages counted (a check with the right code, or a
   * retry of a spent verification): every stage that took something for it gives it back.
   */
  async giveBack(ctx: RiskContext): Promise<void> {
    for (const stage of this.stages) await stage.giveBack?.(ctx);
  }

  /** Tells every observer (e.g. the pumping detector) what happened after an allowed request. */
  async observe(outcome: RiskOutcome): Promise<void> {
    for (const o of this.observers) await o.observe(outcome);
  }
}
