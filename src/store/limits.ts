import type { Channel } from "./types.js";

/**
 * Persistence for the limits and spend stages: admin price overrides and per-service daily spend.
 * Chosen in the composition root next to the {@link Store} (SQLite by default, PostgreSQL for scale-out).
 * Money is integer micro-dollars (1 USD = 1,000,000) so sums never drift the way floats do.
 */

/** An admin's price for one destination country and channel, replacing the shipped default. */
export interface PriceOverrideRow {
  /** ISO 3166-1 alpha-2, upper case, or "*" for the fallback used when a country has no price. */
  country: string;
  channel: Channel;
  usdMicros: number;
  updatedAt: number;
}

/** One service's estimated spend on one UTC day. */
export interface SpendRow {
  serviceId: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  usdMicros: number;
  sends: number;
  /** The part of the spend (and of the sends) that drew on the capped share; the rest is the protected share's. */
  cappedUsdMicros: number;
  cappedSends: number;
}

/** Why a reservation was refused: the whole budget, or the capped share of it. */
export type SpendRefusal = "BUDGET" | "CAPPED_SHARE";

export interface PriceStore {
  listPriceOverrides(): Promise<PriceOverrideRow[]>;
  getPriceOverride(country: string, channel: Channel): Promise<PriceOverrideRow | null>;
  upsertPriceOverride(row: PriceOverrideRow): Promise<void>;
  /** False when there was no override. */
  deletePriceOverride(country: string, channel: Channel): Promise<boolean>;
}

export interface SpendStore {
  /** The day's spend; zeros when nothing was spent. */
  getSpend(serviceId: string, day: string): Promise<SpendRow>;
  /** Every day with spend in [fromDay, untilDay] (inclusive, `YYYY-MM-DD`), of one service or all. */
  listSpend(serviceId: string | null, fromDay: string, untilDay: string): Promise<SpendRow[]>;
  /**
   * Atomically adds `usdMicros` (and one send) to the day's spend if the total stays within
   * `budgetMicros` and, for a send of the capped share (`capMicros` set), the capped share's spend
   * stays within `capMicros`; otherwise changes nothing and says which limit refused. The tests and the
   * increment are one statement, so concurrent sends cannot overshoot a limit together.
   */
  reserveSpend(input: { serviceId: string; day: string; usdMicros: number; budgetMicros: number; capMicros?: number | null; now: number }): Promise<{
    reserved: boolean;
    spentMicros: number;
    cappedMicros: number;
    refusedBy: SpendRefusal | null;
  }>;
  /** Adds spend unconditionally (sends the guard did not reserve for, e.g. in shadow mode), to the capped share when `capped`. */
  addSpend(input: { serviceId: string; day: string; usdMicros: number; capped?: boolean; now: number }): Promise<void>;
}

/** Everything the limits and spend stages persist (besides limiter counters, see risk/limiter.ts). */
export interface LimitsStore extends PriceStore, SpendStore {}
