import type Database from "better-sqlite3";
import { and, eq, sql } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { RateLimiterSQLite } from "rate-limiter-flexible";
import { COUNTER_POINTS, type Counters } from "../../risk/limiter.js";
import type { LimitsStore, PriceOverrideRow, SpendRow } from "../limits.js";
import type { Channel } from "../types.js";
import type * as schema from "./schema.js";
import { priceOverrides, spendDaily } from "./schema.js";

/**
 * Prices and spend on the embedded SQLite file, sharing the store's connection. The SQL stays
 * portable (INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING exists in PostgreSQL too).
 */
export class SqliteLimitsStore implements LimitsStore {
  constructor(private readonly db: BetterSQLite3Database<typeof schema>) {}

  async listPriceOverrides(): Promise<PriceOverrideRow[]> {
    return this.db.select().from(priceOverrides).orderBy(priceOverrides.country, priceOverrides.channel).all();
  }

  async getPriceOverride(country: string, channel: Channel): Promise<PriceOverrideRow | null> {
    return this.db.select().from(priceOverrides).where(and(eq(priceOverrides.country, country), eq(priceOverrides.channel, channel))).get() ?? null;
  }

  async upsertPriceOverride(row: PriceOverrideRow): Promise<void> {
    this.db
      .insert(priceOverrides)
      .values(row)
      .onConflictDoUpdate({ target: [priceOverrides.country, priceOverrides.channel], set: { usdMicros: row.usdMicros, updatedAt: row.updatedAt } })
      .run();
  }

  async deletePriceOverride(country: string, channel: Channel): Promise<boolean> {
    return this.db.delete(priceOverrides).where(and(eq(priceOverrides.country, country), eq(priceOverrides.channel, channel))).run().changes > 0;
  }

  async getSpend(serviceId: string, day: string): Promise<SpendRow> {
    const row = this.db
      .select({ serviceId: spendDaily.serviceId, day: spendDaily.day, usdMicros: spendDaily.usdMicros, sends: spendDaily.sends })
      .from(spendDaily)
      .where(and(eq(spendDaily.serviceId, serviceId), eq(spendDaily.day, day)))
      .get();
    return row ?? { serviceId, day, usdMicros: 0, sends: 0 };
  }

  async reserveSpend(input: { serviceId: string; day: string; usdMicros: number; budgetMicros: number; now: number }): Promise<{ reserved: boolean; spentMicros: number }> {
    const { serviceId, day, usdMicros, budgetMicros, now } = input;
    // A first send of the day inserts, and the conflict clause's WHERE does not guard an insert:
    // so a single send dearer than the whole budget is refused before any write.
    if (usdMicros > budgetMicros) return { reserved: false, spentMicros: (await this.getSpend(serviceId, day)).usdMicros };
    // The gate: the budget test and the increment are one statement. SQLite runs it under its single
    // writer lock (PostgreSQL under the row lock of ON CONFLICT), so concurrent sends serialise here
    // and the sum can never pass the budget.
    const row = this.db
      .insert(spendDaily)
      .values({ serviceId, day, usdMicros, sends: 1, updatedAt: now })
      .onConflictDoUpdate({
        target: [spendDaily.serviceId, spendDaily.day],
        set: { usdMicros: sql`${spendDaily.usdMicros} + excluded.usd_micros`, sends: sql`${spendDaily.sends} + 1`, updatedAt: now },
        setWhere: sql`${spendDaily.usdMicros} + excluded.usd_micros <= ${budgetMicros}`,
      })
      .returning({ usdMicros: spendDaily.usdMicros })
      .get();
    if (row) return { reserved: true, spentMicros: row.usdMicros };
    return { reserved: false, spentMicros: (await this.getSpend(serviceId, day)).usdMicros };
  }

  async addSpend(input: { serviceId: string; day: string; usdMicros: number; now: number }): Promise<void> {
    const { serviceId, day, usdMicros, now } = input;
    this.db
      .insert(spendDaily)
      .values({ serviceId, day, usdMicros, sends: 1, updatedAt: now })
      .onConflictDoUpdate({
        target: [spendDaily.serviceId, spendDaily.day],
        set: { usdMicros: sql`${spendDaily.usdMicros} + excluded.usd_micros`, sends: sql`${spendDaily.sends} + 1`, updatedAt: now },
      })
      .run();
  }
}

/**
 * Limiter counters in the `rate_limits` table of the same SQLite file (rate-limiter-flexible's
 * RateLimiterSQLite on better-sqlite3), so limits survive a restart. The table comes from a drizzle
 * migration (`tableCreated: true`); the library's own expiry timer is off because it would fire on a
 * closed database after shutdown: {@link sweepRateLimits} runs on the app's sweeper instead.
 */
export function sqliteCounters(sqlite: Database.Database): Counters {
  return new RateLimiterSQLite({
    storeClient: sqlite,
    storeType: "better-sqlite3",
    tableName: "rate_limits",
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: "vg",
    points: COUNTER_POINTS,
    duration: 0,
  });
}

/** Deletes counters whose expiry (wall-clock ms, as the library writes it) has passed. */
export function sweepRateLimits(sqlite: Database.Database, wallNow: number = Date.now()): number {
  if (!sqlite.open) return 0;
  return sqlite.prepare("DELETE FROM rate_limits WHERE expire IS NOT NULL AND expire < ?").run(wallNow).changes;
}
