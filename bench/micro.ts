import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app.js";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { parsePhone } from "../src/phone.js";
import { limitsStage } from "../src/risk/stages/limits.js";
import type { PipelineResult, RiskContext, RiskRequest } from "../src/risk/types.js";
import { openDatabase } from "../src/store/open.js";
import type { BoundedCount, ServiceRow } from "../src/store/types.js";
import { incrementCounters } from "../src/store/queries/window-counter.js";
import { CounterReads, type CounterRead } from "../src/risk/window-counter.js";
import type { RiskPipeline } from "../src/risk/pipeline.js";
import { BENCH_SHADOW_STAGES, benchServerEnv } from "./http-ops.js";
import { percentile } from "./lib/table.js";
import { BENCH_CODE_SECRET, clientIp } from "./lib/gql.js";
import { numberKeyer } from "../src/risk/number-key.js";
import { PhoneSource } from "./lib/phones.js";
import type { BenchSettings } from "./lib/settings.js";
import { timeEach, type Timing } from "./lib/timing.js";

export interface MicroResults {
  /** The whole pipeline (every stage, as the app builds it via risk/build.ts) for one START. */
  pipelineStart: Timing;
  /** The same for one CHECK. */
  pipelineCheck: Timing;
  /** The limits stage alone (per IP + per number, SQLite counters): its batched read and its decision. */
  limitsStage: Timing;
  /** The same decision from reads already fetched: the limiter's own work. */
  limitsDecision: Timing;
  /** Both limits taken as a commit takes them (the bounded upsert), in a transaction of their own. */
  limitsTake: Timing;
  /** Each stage's own share of a START / CHECK decision (mean, p50, p99 µs), in pipeline order. */
  stagesStart: StageTiming[];
  stagesCheck: StageTiming[];
}

export interface StageTiming {
  stage: string;
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

/**
 * Runs the pipeline's stages one by one (as the runner does: skipping what does not apply) on fresh
 * requests and times each stage's evaluate on its own, so a slow decision can be pinned on a stage.
 */
async function timeStages(
  pipeline: RiskPipeline,
  iterations: number,
  request: (i: number) => RiskRequest,
  now: () => number,
  after?: (ctx: RiskContext, i: number) => Promise<unknown>,
): Promise<StageTiming[]> {
  const stages = pipeline.stageList;
  const us = stages.map(() => new Float64Array(iterations));
  for (let i = 0; i < iterations; i++) {
    const ctx: RiskContext = { ...request(i), now: now(), retry: 0, shadow: [] };
    for (const [k, stage] of stages.entries()) {
      if (!stage.appliesTo.includes(ctx.kind) || (stage.fraud && (ctx.trusted || !ctx.riskCheck))) continue;
      // The stage's batched read (one statement) is fetched untimed: this times the decision.
      const reads = await pipeline.readsOf(stage, ctx);
      const a = process.hrtime.bigint();
      const d = await stage.evaluate(ctx, reads);
      us[k]![i] = Number(process.hrtime.bigint() - a) / 1000;
      if (d.action !== "allow" && !ctx.service.riskSettings.shadowStages?.includes(stage.name)) {
        throw new Error(`stage ${stage.name} blocked a bench request (${d.code})`);
      }
    }
    await after?.(ctx, i);
  }
  return stages
    .map((stage, k) => {
      const sorted = Array.from(us[k]!).sort((x, y) => x - y);
      return { stage: stage.name, meanUs: sorted.reduce((a, x) => a + x, 0) / iterations, p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99) };
    })
    .filter((t) => t.meanUs > 0);
}

/**
 * Micro-benchmarks in-process, on a temp SQLite file: µs per risk decision. The pipeline is the one
 * createApp builds (src/risk/build.ts with every real stage and the SQLite stores); each decision
 * gets a distinct number and client IP, so no stage answers early from a limit. Nothing is recorded
 * or sent: this is the decision alone, what a start or check pays before its own writes.
 */
export async function runMicro(s: BenchSettings, log: (line: string) => void): Promise<MicroResults> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-micro-"));
  const app = await createApp({
    config: loadConfig(benchServerEnv(dir)),
    log: createLogger("silent"),
    print: () => undefined,
    sweeper: false,
  });
  const limitsDb = await openDatabase({ kind: "sqlite", file: join(dir, "limits.db") });
  try {
    const service: ServiceRow = await app.services.services.create({ friendlyName: "Bench", riskSettings: { shadowStages: BENCH_SHADOW_STAGES } });
    const warmup = Math.min(1000, Math.ceil(s.microIterations / 5));
    const n = s.microIterations + warmup;
    // Three disjoint ranges of numbers: the START loop, the CHECK loop, the per-stage loops.
    const phones = new PhoneSource(13);
    phones.prefill(3 * n);
    const numbers = Array.from({ length: 3 * n }, () => phones.take());
    const request = (kind: "START" | "CHECK", i: number): RiskRequest => ({
      kind,
      service,
      rawTo: numbers[i]!,
      channel: "SMS",
      ip: clientIp(kind === "START" ? i : 3 * n + i),
      role: "CLIENT",
      riskCheck: true,
      tags: {},
      rateLimitValues: {},
    });
    const expectAllowed = (r: { decision: { action: string; code?: string } }) => {
      if (r.decision.action !== "allow") throw new Error(`the pipeline blocked a bench request (${r.decision.code}): the decision would be short-circuited`);
    };

    log(`  risk pipeline (${app.pipeline.stageNames.join(" → ")}): START`);
    // Each allowed START is then reported sent (untimed), as the lifecycle does, so the detector's and
    // signals' counters fill up as under real traffic and later decisions read populated windows.
    let lastStart: PipelineResult | null = null;
    const pipelineStart = await timeEach(
      s.microIterations,
      warmup,
      async (i) => {
        lastStart = await app.pipeline.evaluate(request("START", i));
        expectAllowed(lastStart);
      },
      (i) => app.pipeline.observe({ type: "sent", ctx: lastStart!.ctx, verificationId: `VE${i}` }),
    );
    log("  risk pipeline: CHECK");
    const pipelineCheck = await timeEach(s.microIterations, warmup, async (i) => expectAllowed(await app.pipeline.evaluate(request("CHECK", n + i))));
    log("  risk pipeline: each stage alone");
    const stagesStart = await timeStages(
      app.pipeline,
      n,
      (i) => request("START", 2 * n + i),
      () => systemClock.now(),
      (ctx, i) => app.pipeline.observe({ type: "sent", ctx, verificationId: `VS${i}` }),
    );
    const stagesCheck = await timeStages(app.pipeline, n, (i) => request("CHECK", 2 * n + i), () => systemClock.now());

    log("  limiter: the limits stage's read, decision and take");
    const stage = limitsStage({ limiter: "commit", numberKey: numberKeyer(BENCH_CODE_SECRET) });
    const parsed = numbers.slice(0, n).map((to) => {
      const p = parsePhone(to);
      if (!p.ok) throw new Error(`bench number ${to} is invalid`);
      return p.phone;
    });
    const ctxOf = (i: number): RiskContext => ({ ...request("START", i), phone: parsed[i % n], now: systemClock.now(), retry: 0, shadow: [] });
    const decide = async (ctx: RiskContext, reads: CounterReads) => {
      const d = await stage.evaluate(ctx, reads);
      if (d.action !== "allow") throw new Error(`the limits stage blocked a bench request: ${d.code}`);
      return d.writes?.limits ?? [];
    };
    const readsOf = (ctx: RiskContext) => CounterReads.fetch(limitsDb.windowCounter, stage.reads!(ctx) as CounterRead[]);
    const limitsStageTiming = await timeEach(s.microIterations, warmup, async (i) => {
      const ctx = ctxOf(i);
      await decide(ctx, await readsOf(ctx));
    });
    const prepared = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const ctx = ctxOf(i);
      return { ctx, reads: await readsOf(ctx) };
    }));
    const takes: BoundedCount[][] = [];
    const limitsDecision = await timeEach(s.microIterations, warmup, async (i) => void (takes[i] = await decide(prepared[i]!.ctx, prepared[i]!.reads)));
    const limitsTake = await timeEach(s.microIterations, warmup, (i) => limitsDb.db.transaction(() => incrementCounters([], 0, takes[i]!)));
    return { pipelineStart, pipelineCheck, limitsStage: limitsStageTiming, limitsDecision, limitsTake, stagesStart, stagesCheck };
  } finally {
    await limitsDb.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
