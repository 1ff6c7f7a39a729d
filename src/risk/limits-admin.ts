import type { Clock } from "../clock.js";
import { invalidParameter } from "../errors.js";
import type { SpendStore } from "../store/limits.js";
import type { RateLimitSpec, ServiceRow } from "../store/types.js";
import { Services } from "../verification/services.js";
import { MICROS_PER_USD, type PriceTable } from "./prices.js";
import { ServiceRateLimits } from "./service-rate-limits.js";
import { dailyBudgetCents, utcDay } from "./stages/spend-guard.js";

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
  /** The service's named rate limits one by one (the REST API's RateLimits and Buckets). */
  readonly rateLimits: ServiceRateLimits;

  constructor(
    private readonly d: { services: Services; spend: SpendStore; prices: PriceTable; clock: Clock; defaultBudgetCents?: number },
  ) {
    this.rateLimits = new ServiceRateLimits({ services: d.services, clock: d.clock });
  }

  get prices(): PriceTable {
    return this.d.prices;
  }

  /** Replaces the service's named rate limits (an empty list removes them all); a kept name keeps its SID. */
  setRateLimits(serviceId: string, rateLimits: RateLimitSpec[]): Promise<ServiceRow> {
    return this.rateLimits.replace(serviceId, rateLimits);
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
