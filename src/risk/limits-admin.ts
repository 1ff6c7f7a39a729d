import type { Clock } from "../clock.js";
import { invalidParameter } from "../errors.js";
import type { SpendRow, SpendStore } from "../store/limits.js";
import type { RateLimitSpec, ServiceRow } from "../store/types.js";
import { Services } from "../verification/services.js";
import { MICROS_PER_USD, type PriceTable } from "./prices.js";
import { ServiceRateLimits } from "./service-rate-limits.js";
import { capMicros, cappedSharePercent, dailyBudgetCents, utcDay } from "./stages/spend-guard.js";

/** A service's spend on one UTC day against its budget. */
export interface SpendReport {
  day: string;
  spentUsd: number;
  sends: number;
  budgetUsd: number;
  /** The capped share's percent of the budget. */
  cappedSharePercent: number;
  /** The day's spend per share, protected first. */
  shares: ShareSpend[];
}

/** What one share of the budget spent. */
export interface ShareSpend {
  share: "PROTECTED" | "CAPPED";
  spentUsd: number;
  sends: number;
  /** What the share may spend: the whole budget (protected), or its cap. */
  limitUsd: number;
}

/** A day's spend row split by share. */
export function sharesOf(s: Pick<SpendRow, "usdMicros" | "sends" | "cappedUsdMicros" | "cappedSends">, limits?: { budgetMicros: number; capMicros: number }): ShareSpend[] {
  return [
    { share: "PROTECTED", spentUsd: (s.usdMicros - s.cappedUsdMicros) / MICROS_PER_USD, sends: s.sends - s.cappedSends, limitUsd: (limits?.budgetMicros ?? 0) / MICROS_PER_USD },
    { share: "CAPPED", spentUsd: s.cappedUsdMicros / MICROS_PER_USD, sends: s.cappedSends, limitUsd: (limits?.capMicros ?? 0) / MICROS_PER_USD },
  ];
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
    private readonly d: { services: Services; spend: SpendStore; prices: PriceTable; clock: Clock; defaultBudgetCents?: number; defaultCappedSharePercent?: number },
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

  /** Sets the capped share, percent of the daily budget (0 refuses every capped destination); null returns to the default. */
  async setCappedShare(serviceId: string, percent: number | null): Promise<ServiceRow> {
    if (percent !== null && (!Number.isInteger(percent) || percent < 0 || percent > 100)) throw invalidParameter("percent", "must be an integer from 0 to 100");
    return this.d.services.updateRiskSettings(serviceId, { cappedSharePercent: percent ?? undefined });
  }

  /** The effective daily budget of a service row, in US cents. */
  budgetCents(row: ServiceRow): number {
    return dailyBudgetCents(row.riskSettings, this.d.defaultBudgetCents);
  }

  /** The effective capped share of a service row, percent. */
  cappedSharePercent(row: ServiceRow): number {
    return cappedSharePercent(row.riskSettings, this.d.defaultCappedSharePercent);
  }

  /** Spend on `day` (UTC `YYYY-MM-DD`, default today) against the budget. */
  async spend(row: ServiceRow, day?: string): Promise<SpendReport> {
    if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw invalidParameter("day", "must be YYYY-MM-DD");
    const d = day ?? utcDay(this.d.clock.now());
    const s = await this.d.spend.getSpend(row.id, d);
    const budgetCents = this.budgetCents(row);
    const percent = this.cappedSharePercent(row);
    return {
      day: d,
      spentUsd: s.usdMicros / MICROS_PER_USD,
      sends: s.sends,
      budgetUsd: budgetCents / 100,
      cappedSharePercent: percent,
      shares: sharesOf(s, { budgetMicros: (budgetCents * MICROS_PER_USD) / 100, capMicros: capMicros(budgetCents, percent) }),
    };
  }
}
