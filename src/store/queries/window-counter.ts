import { bucketStart, type CounterRead, type WindowCounter } from "../../risk/window-counter.js";
import { query, run, type Db, type Step } from "../sql/query.js";

/** Bucket width of the database counters (ms): what the detectors' windows are counted in. */
export const COUNTER_BUCKET_MS = 10_000;

export interface SqlWindowCounterOptions {
  /** Bucket width in milliseconds. @default 10_000 */
  bucketMs?: number;
  /** Buckets older than this are swept. Must exceed the longest detector window. @default 48 hours */
  retentionMs?: number;
  /** At most one sweep per this many milliseconds (of event time), per instance. @default 60_000 */
  sweepEveryMs?: number;
}

const q = {
  incr: query<{ key: string; bucket: number }>(
    "insert into risk_counters (key, bucket, n) values (:key, :bucket, 1) on conflict (key, bucket) do update set n = risk_counters.n + 1",
  ),
  /**
   * A request's increments in one multi-row upsert (where true: SQLite's parser needs it before ON
   * CONFLICT in an INSERT … SELECT). Rows go in key order, so two concurrent batches on PostgreSQL
   * lock their common rows in the same order.
   */
  incrMany: query<{ key: string[]; n: number[]; bucket: number }>(
    (d) => `insert into risk_counters (key, bucket, n) select key, ${d.int(":bucket")}, n from ${d.rows([["key", "text"], ["n", "int"]])} as r where true
     on conflict (key, bucket) do update set n = risk_counters.n + excluded.n`,
  ),
  count: query<{ key: string; from: number; to: number }, { n: number }>(
    "select coalesce(sum(n), 0) as n from risk_counters where key = :key and bucket >= :from and bucket <= :to",
  ),
  /** Every read of a request in one statement: each (key, range) probes the primary key once. */
  countMany: query<{ i: number[]; key: string[]; lo: number[]; hi: number[] }, { i: number; n: number }>(
    (d) => `select r.i as i, coalesce(sum(c.n), 0) as n
     from ${d.rows([["i", "int"], ["key", "text"], ["lo", "int"], ["hi", "int"]])} as r
     left join risk_counters c on c.key = r.key and c.bucket >= r.lo and c.bucket <= r.hi
     group by r.i`,
  ),
  reset: query<{ key: string }>("delete from risk_counters where key = :key"),
  sweep: query<{ before: number }>("delete from risk_counters where bucket < :before"),
};

/**
 * The fraud detectors' {@link WindowCounter} in the database's `risk_counters` table (one row per key
 * and time bucket), so the detectors remember an attack across a restart and, on PostgreSQL, share it
 * between instances; REDIS_URL replaces it with Redis. Old buckets are swept lazily on increments (by
 * event time, so tests with a manual clock see the same behaviour).
 */
export class SqlWindowCounter implements WindowCounter {
  readonly inStore = true;
  private readonly bucketMs: number;
  private readonly retentionMs: number;
  private readonly sweepEveryMs: number;
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    opts: SqlWindowCounterOptions = {},
  ) {
    this.bucketMs = opts.bucketMs ?? COUNTER_BUCKET_MS;
    this.retentionMs = opts.retentionMs ?? 48 * 3_600_000;
    this.sweepEveryMs = opts.sweepEveryMs ?? 60_000;
  }

  async incr(key: string, now: number): Promise<void> {
    await this.db.run(q.incr, { key, bucket: this.bucketOf(now) });
    await this.maybeSweep(now);
  }

  async incrMany(keys: readonly string[], now: number): Promise<void> {
    if (keys.length === 0) return;
    await this.db.transaction(() => incrementCounters(keys, this.bucketOf(now)));
    await this.maybeSweep(now);
  }

  async count(key: string, from: number, to: number): Promise<number> {
    if (to < from) return 0;
    return (await this.db.get(q.count, { key, from: this.bucketOf(from), to }))?.n ?? 0;
  }

  async countMany(reads: readonly CounterRead[]): Promise<number[]> {
    const live = reads.map((r, i) => ({ ...r, i })).filter((r) => r.to >= r.from);
    const out = reads.map(() => 0);
    if (live.length === 0) return out;
    const rows = await this.db.all(q.countMany, {
      i: live.map((r) => r.i),
      key: live.map((r) => r.key),
      lo: live.map((r) => this.bucketOf(r.from)),
      hi: live.map((r) => r.to),
    });
    for (const r of rows) out[r.i] = r.n;
    return out;
  }

  async reset(key: string): Promise<void> {
    await this.db.run(q.reset, { key });
  }

  private async maybeSweep(now: number): Promise<void> {
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    await this.db.run(q.sweep, { before: now - this.retentionMs });
  }

  private bucketOf(t: number): number {
    return bucketStart(t, this.bucketMs);
  }
}

/**
 * One request's counter increments as one statement of a transaction (SqlWindowCounter.incrMany, and
 * the request's commit in store/queries/store.ts). A statement may not update one row twice
 * (PostgreSQL), so repeated keys are summed.
 */
export function* incrementCounters(keys: readonly string[], bucket: number): Generator<Step, void, unknown> {
  if (keys.length === 0) return;
  const perKey = new Map<string, number>();
  for (const key of keys) perKey.set(key, (perKey.get(key) ?? 0) + 1);
  const sorted = [...perKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  yield* run(q.incrMany, { key: sorted.map(([k]) => k), n: sorted.map(([, n]) => n), bucket });
}
