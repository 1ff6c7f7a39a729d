import type { Clock } from "../clock.js";
import { RiskPipeline } from "./pipeline.js";
import { phoneStage } from "./stages/phone.js";
import type { RiskObserver, RiskStage } from "./types.js";

/** What the stages need; the composition root fills it. Stages add their dependencies here. */
export interface RiskDeps {
  clock: Clock;
}

/**
 * The order of the risk pipeline, and the only place that knows it: cheap static checks first,
 * stages that consume limiter points last (so a request blocked earlier costs no points).
 *   1. phone          parse, E.164, country, line type, prefix (60200, 60205)
 *   2. safe-list      trusted numbers skip the fraud stages (never the limits)
 *   3. geo            per-service, per-country, per-channel permissions (60605)
 *   4. prefix-guard   static blocked prefixes + SMS-pumping detector (60410)
 *   5. signals        behavioural signals (IP fan-out, sequential bursts, unchecked sends)
 *   6. limits         per IP, per number, service buckets (20429)
 *   7. spend          per-service daily spend budget
 */
export function buildRiskPipeline(deps: RiskDeps): RiskPipeline {
  const stages: RiskStage[] = [phoneStage];
  const observers: RiskObserver[] = [];
  return new RiskPipeline(stages, deps.clock, observers);
}
