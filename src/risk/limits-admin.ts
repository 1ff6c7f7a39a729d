import type { Clock } from "../clock.js";
import { invalidParameter } from "../errors.js";
import type { SpendStore } from "../store/limits.js";
import type { RateLimitSpec, ServiceRow } from "../store/types.js";
import { Services } from "../verification/services.js";
import { MICROS_PER_USD, type PriceTable } from "./prices.js";
import { dailyBudgetCents, utcDay } from "./stages/spend-guard.js";

/** Bounds on a service's own rate limits (Twilio's Service Rate Limits have similar ones). */
export const RATE_LIMIT_BOUNDS = { maxLimits: 10, maxBuckets: 5, maxPoints: 1_000_000, maxIntervalSeconds: 86_400 } as const;

/** A service's spend on one UTC day against its budget. */
export interface SpendReport {
  day: string;
  spentUsd: number;
  sends: number;
  budgetUsd: number;
}

/**
 * The admin operations of the limits and spend stages: a service's named rate-limit buckets, its daily
 * budget, its spend, and the price table. Settings live in the service's `riskSettings` JSON, which
 * the stages read on every request, so a change applies to the next request on every instance.
 */
export class LimitsAdmin {
  constructor(
    private readonly d: { services: Services; spend: SpendStore; prices: PriceTable; clock: Clock; defaultBudgetCents?: number },
  ) {}

  get prices(): PriceTable {
    return this.d.prices;
  }

  /** Replaces the service's named rate limits (an empty list removes them all). */
  async setRateLimits(serviceId: string, rateLimits: RateLimitSpec[]): Promise<ServiceRow> {
    validateRateLimits(rateLimits);
    return this.d.services.updateRiskSettings(serviceId, { rateLimits: rateLimits.map((r) => ({ uniqueName: r.uniqueName, buckets: r.buckets.map((b) => ({ max: b.max, intervalSeconds: b.intervalSeconds })) })) });
  }

  /** Sets the daily budget in US cents (0 stops every send); null returns to the default. */
  async setDailyBudget(serviceId: string, cents: number | null): Promise<ServiceRow> {
    if (cents !== null && (!Number.isInteger(cents) || cents < 0 || cents > 100_000_000)) throw invalidParameter("cents", "must be an integer from 0 to 100000000");
    // undefined drops the key: riskSettings is stored as JSON, and the row returned is the stored one.
    return this.d.services.updateRiskSettings(serviceId, { dailyBudgetCents: cents ?? undefined });
  }

  /** The effective daily budget of a service row, in US cents. */
  budgetCents(row: ServiceRow): number {
    return dailyBudgetCents(row.riskSettings, this.d.defaultBudgetCents);
  }

  /** Spend on `day` (UTC `YYYY-MM-DD`, default today) against the budget. */
  async spend(row: ServiceRow, day?: string): Promise<SpendReport> {
    if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw invalidParameter("day", "must be YYYY-MM-DD");
    const d = day ?? utcDay(this.d.clock.now());
    const s = await this.d.spend.getSpend(row.id, d);
    return { day: d, spentUsd: s.usdMicros / MICROS_PER_USD, sends: s.sends, budgetUsd: this.budgetCents(row) / 100 };
  }
}

function validateRateLimits(limits: RateLimitSpec[]): void {
  const b = RATE_LIMIT_BOUNDS;
  if (limits.length > b.maxLimits) throw invalidParameter("rateLimits", `at most ${b.maxLimits} per service`);
  const names = new Set<string>();
  for (const l of limits) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(l.uniqueName)) throw invalidParameter("rateLimits", "uniqueName must be 1 to 64 of A-Z a-z 0-9 _");
    if (names.has(l.uniqueName)) throw invalidParameter("rateLimits", `uniqueName ${l.uniqueName} appears twice`);
    names.add(l.uniqueName);
    if (l.buckets.length < 1 || l.buckets.length > b.maxBuckets) throw invalidParameter("rateLimits", `each rate limit needs 1 to ${b.maxBuckets} buckets`);
    for (const x of l.buckets) {
      if (!Number.isInteger(x.max) || x.max < 1 || x.max > b.maxPoints) throw invalidParameter("rateLimits", `bucket max must be an integer from 1 to ${b.maxPoints}`);
      if (!Number.isInteger(x.intervalSeconds) || x.intervalSeconds < 1 || x.intervalSeconds > b.maxIntervalSeconds) {
        throw invalidParameter("rateLimits", `bucket intervalSeconds must be an integer from 1 to ${b.maxIntervalSeconds}`);
      }
    }
  }
}
