import { and, eq, gte, lt, lte, sql } from "drizzle-orm";
import { bucketStart, type WindowCounter } from "../../risk/window-counter.js";
import type { PgDb } from "./connect.js";
import { withCleanErrors } from "./errors.js";
import { riskCounters } from "./schema.js";

export interface PgWindowCounterOptions {
  /** Bucket width in milliseconds. @default 10_000 */
  bucketMs?: number;
  /** Buckets older than this are swept. Must exceed the longest detector window. @default 48 hours */
  retentionMs?: number;
  /** At most one sweep per this many milliseconds (of event time), per instance. @default 60_000 */
  sweepEveryMs?: number;
}

/**
 * The fraud detectors' {@link WindowCounter} in PostgreSQL's `risk_counters` table, for PostgreSQL
 * without Redis: the SQLite counter's statements (an increment is one upsert, atomic under the row
 * lock; a request's increments are one multi-row upsert), shared by every instance on the database.
 */
export class PgWindowCounter implements WindowCounter {
  private readonly bucketMs: number;
  private readonly retentionMs: number;
  private readonly sweepEveryMs: number;
  private lastSweep = 0;

  constructor(
    private readonly db: PgDb,
    opts: PgWindowCounterOptions = {},
  ) {
    this.bucketMs = opts.bucketMs ?? 10_000;
    this.retentionMs = opts.retentionMs ?? 48 * 3_600_000;
    this.sweepEveryMs = opts.sweepEveryMs ?? 60_000;
  }

  async incr(key: string, now: number): Promise<void> {
    await this.db
      .insert(riskCounters)
      .values({ key, bucket: this.bucketOf(now), n: 1 })
      .onConflictDoUpdate({ target: [riskCounters.key, riskCounters.bucket], set: { n: sql`${riskCounters.n} + 1` } });
    await this.maybeSweep(now);
  }

  async incrMany(keys: readonly string[], now: number): Promise<void> {
    if (keys.length === 0) return;
    // One multi-row upsert. A statement may not update one row twice, so repeated keys are summed;
    // rows go in key order so two concurrent batches lock their common rows in the same order.
    const perKey = new Map<string, number>();
    for (const key of keys) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    const bucket = this.bucketOf(now);
    const rows = [...perKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, n]) => ({ key, bucket, n }));
    await this.db
      .insert(riskCounters)
      .values(rows)
      .onConflictDoUpdate({ target: [riskCounters.key, riskCounters.bucket], set: { n: sql`${riskCounters.n} + excluded.n` } });
    await this.maybeSweep(now);
  }

  private async maybeSweep(now: number): Promise<void> {
    if (now - this.lastSweep >= this.sweepEveryMs) {
      this.lastSweep = now;
      await this.db.delete(riskCounters).where(lt(riskCounters.bucket, now - this.retentionMs));
    }
  }

  async count(key: string, from: number, to: number): Promise<number> {
    if (to < from) return 0;
    const [row] = await this.db
      .select({ n: sql<string>`coalesce(sum(${riskCounters.n}), 0)` })
      .from(riskCounters)
      .where(and(eq(riskCounters.key, key), gte(riskCounters.bucket, this.bucketOf(from)), lte(riskCounters.bucket, to)));
    // sum() over integer is bigint, which node-postgres returns as a string.
    return Number(row?.n ?? 0);
  }

  async reset(key: string): Promise<void> {
    await this.db.delete(riskCounters).where(eq(riskCounters.key, key));
  }

  private bucketOf(t: number): number {
    return bucketStart(t, this.bucketMs);
  }
}

withCleanErrors(PgWindowCounter);
