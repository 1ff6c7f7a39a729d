import type { Clock } from "../clock.js";
import type { EventPublisher } from "../events/types.js";
import type { ConversionHistory } from "./baselines.js";
import type { Logger } from "../log.js";
import type { FraudStore } from "../store/fraud.js";
import type { SpendStore } from "../store/limits.js";
import type { NumberKey } from "./number-key.js";
import { RiskPipeline } from "./pipeline.js";
import type { PriceTable } from "./prices.js";
import type { PumpingDetector } from "./pumping-detector.js";
import { SignalRecorder } from "./signals.js";
import { geoPermissionsStage } from "./stages/geo-permissions.js";
import { limitsStage, type LimitsBackend, type LimitsOptions } from "./stages/limits.js";
import { phoneStage } from "./stages/phone.js";
import { prefixGuardStage } from "./stages/prefix-guard.js";
import { safeListStage } from "./stages/safe-list.js";
import { signalsStage } from "./stages/signals.js";
import { SpendGuard } from "./stages/spend-guard.js";
import type { RiskObserver, RiskStage } from "./types.js";
import type { WindowCounter } from "./window-counter.js";

/** What the stages need; the composition root fills it. Stages add their dependencies here. */
export interface RiskDeps {
  clock: Clock;
  log?: Logger;
  /** limits: where their counters live ("commit": the database's, taken in the request's commit; or Redis's limiter), and the configured per-IP / per-number limits (defaults otherwise). */
  limiter: LimitsBackend;
  limits?: Partial<LimitsOptions>;
  /** spend: prices, the spend ledger, and the budget of services that set none (US cents). */
  prices: PriceTable;
  spend: SpendStore;
  defaultBudgetCents?: number;
  /** fraud stages: safe list, geo permissions and blocked prefixes; the detectors' window counters. */
  fraud: FraudStore;
  counter: WindowCounter;
  /** The SMS-pumping detector (built by the composition root, which also hands it to the admin operations). */
  detector: PumpingDetector;
  /** Names a number in counter and limiter keys (a keyed hash: no key holds a number in clear). */
  numberKey: NumberKey;
  /** spend: the capped share of services that set none (percent), the services' conversion history
   * (which destinations earned the protected share), and where a share running out is announced. */
  defaultCappedSharePercent?: number;
  history?: ConversionHistory;
  events?: EventPublisher;
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
 *   7. spend          per-service daily spend budget (60606)
 */
export function buildRiskPipeline(deps: RiskDeps): RiskPipeline {
  const limits = limitsStage({ limiter: deps.limiter, numberKey: deps.numberKey, options: deps.limits, log: deps.log });
  const spend = new SpendGuard({
    prices: deps.prices,
    spend: deps.spend,
    defaultBudgetCents: deps.defaultBudgetCents,
    defaultCappedSharePercent: deps.defaultCappedSharePercent,
    history: deps.history,
    events: deps.events,
    log: deps.log,
  });
  const fraud = [
    safeListStage(deps.fraud),
    geoPermissionsStage(deps.fraud),
    prefixGuardStage(deps.fraud, deps.detector),
    signalsStage({ numberKey: deps.numberKey }),
  ];
  const stages: RiskStage[] = [phoneStage, ...fraud, limits, spend];
  const observers: RiskObserver[] = [deps.detector, new SignalRecorder(deps.counter, deps.numberKey, deps.log), spend];
  return new RiskPipeline(stages, deps.clock, observers, deps.counter);
}
