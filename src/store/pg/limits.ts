import { and, eq, sql } from "drizzle-orm";
import type pg from "pg";
import { RateLimiterPostgres } from "rate-limiter-flexible";
import { COUNTER_POINTS, type Counters } from "../../risk/limiter.js";
import type { LimitsStore, PriceOverrideRow, SpendRow } from "../limits.js";
import type { Channel } from "../types.js";
import type { PgDb } from "./connect.js";
import { withCleanErrors } from "./errors.js";
import { priceOverrides, spendDaily } from "./schema.js";

/** Prices and spend on PostgreSQL: the SQLite store's statements, awaited (same contract, same tests). */
export class PgLimitsStore implements LimitsStore {
  constructor(private readonly db: PgDb) {}

  async listPriceOverrides(): Promise<PriceOverrideRow[]> {
    return this.db.select().from(priceOverrides).orderBy(priceOverrides.country, priceOverrides.channel);
  }

  async getPriceOverride(country: string, channel: Channel): Promise<PriceOverrideRow | null> {
    const [row] = await this.db.select().from(priceOverrides).where(and(eq(priceOverrides.country, country), eq(priceOverrides.channel, channel)));
    return row ?? null;
  }

  async upsertPriceOverride(row: PriceOverrideRow): Promise<void> {
    await this.db
      .insert(priceOverrides)
      .values(row)
      .onConflictDoUpdate({ target: [priceOverrides.country, priceOverrides.channel], set: { usdMicros: row.usdMicros, updatedAt: row.updatedAt } });
  }

  async deletePriceOverride(country: string, channel: Channel): Promise<boolean> {
    const rows = await this.db
      .delete(priceOverrides)
      .where(and(eq(priceOverrides.country, country), eq(priceOverrides.channel, channel)))
      .returning({ country: priceOverrides.country });
    return rows.length > 0;
  }

  async getSpend(serviceId: string, day: string): Promise<SpendRow> {
    const [row] = await this.db
      .select({ serviceId: spendDaily.serviceId, day: spendDaily.day, usdMicros: spendDaily.usdMicros, sends: spendDaily.sends })
      .from(spendDaily)
      .where(and(eq(spendDaily.serviceId, serviceId), eq(spendDaily.day, day)));
    return row ?? { serviceId, day, usdMicros: 0, sends: 0 };
  }

  async reserveSpend(input: { serviceId: string; day: string; usdMicros: number; budgetMicros: number; now: number }): Promise<{ reserved: boolean; spentMicros: number }> {
    const { serviceId, day, usdMicros, budgetMicros, now } = input;
    // An insert is not guarded by the conflict clause's WHERE: refuse a single send dearer than the budget first.
    if (usdMicros > budgetMicros) return { reserved: false, spentMicros: (await this.getSpend(serviceId, day)).usdMicros };
    // The gate: ON CONFLICT DO UPDATE takes the row lock and evaluates the WHERE on the latest row, so
    // concurrent sends from every instance serialise here and the sum never passes the budget.
    const [row] = await this.db
      .insert(spendDaily)
      .values({ serviceId, day, usdMicros, sends: 1, updatedAt: now })
      .onConflictDoUpdate({
        target: [spendDaily.serviceId, spendDaily.day],
        set: { usdMicros: sql`${spendDaily.usdMicros} + excluded.usd_micros`, sends: sql`${spendDaily.sends} + 1`, updatedAt: now },
        setWhere: sql`${spendDaily.usdMicros} + excluded.usd_micros <= ${budgetMicros}`,
      })
      .returning({ usdMicros: spendDaily.usdMicros });
    if (row) return { reserved: true, spentMicros: row.usdMicros };
    return { reserved: false, spentMicros: (await this.getSpend(serviceId, day)).usdMicros };
  }

  async addSpend(input: { serviceId: string; day: string; usdMicros: number; now: number }): Promise<void> {
    const { serviceId, day, usdMicros, now } = input;
    await this.db
      .insert(spendDaily)
      .values({ serviceId, day, usdMicros, sends: 1, updatedAt: now })
      .onConflictDoUpdate({
        target: [spendDaily.serviceId, spendDaily.day],
        set: { usdMicros: sql`${spendDaily.usdMicros} + excluded.usd_micros`, sends: sql`${spendDaily.sends} + 1`, updatedAt: now },
      });
  }
}

withCleanErrors(PgLimitsStore);

/**
 * Limiter counters in the `rate_limits` table (rate-limiter-flexible's RateLimiterPostgres on the
 * store's pool) for PostgreSQL without Redis: still shared by every instance, as the increment is one
 * INSERT … ON CONFLICT DO UPDATE … RETURNING. The table comes from the migrations; expired rows are
 * swept by {@link sweepPgRateLimits} on the app's sweeper rather than the library's own timer.
 */
export function pgCounters(pool: pg.Pool): Counters {
  return new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    tableName: "rate_limits",
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: "vg",
    points: COUNTER_POINTS,
    duration: 0,
  });
}

/** Deletes counters whose expiry (wall-clock ms, as the library writes it) has passed. */
export async function sweepPgRateLimits(pool: pg.Pool, wallNow: number = Date.now()): Promise<number> {
  if (pool.ended) return 0;
  const r = await pool.query("delete from rate_limits where expire is not null and expire < $1", [wallNow]);
  return r.rowCount ?? 0;
}
