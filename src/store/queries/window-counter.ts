import { bucketStart, type CounterRead, type WindowCounter } from "../../risk/window-counter.js";
import type { Dialect } from "../sql/dialect.js";
import { all, query, run, type Db, type Step } from "../sql/query.js";
import { CommitRefused, type BoundedCount } from "../types.js";

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

const upsertRows = (d: Dialect) =>
  `insert into risk_counters (key, bucket, n) select key, bucket, n from ${d.rows([["key", "text"], ["bucket", "int"], ["n", "int"]])} as r where true
   on conflict (key, bucket) do update set n = risk_counters.n + excluded.n`;

const q = {
  incr: query<{ key: string; bucket: number }>(
    "insert into risk_counters (key, bucket, n) values (:key, :bucket, 1) on conflict (key, bucket) do update set n = risk_counters.n + 1",
  ),
  /**
   * A request's increments in one multi-row upsert (where true: SQLite's parser needs it before ON
   * CONFLICT in an INSERT … SELECT). Rows go in key order, so two concurrent batches on PostgreSQL
   * lock their common rows in the same order. With RETURNING (`incrManyReturning`) when some of them
   * are bounded (rate limits taken in the commit): each row's total after this request's increment,
   * under the row's lock, which is what the bound is tested on.
   */
  incrMany: query<{ key: string[]; bucket: number[]; n: number[] }>((d) => upsertRows(d)),
  incrManyReturning: query<{ key: string[]; bucket: number[]; n: number[] }, { key: string; bucket: number; n: number }>(
    (d) => `${upsertRows(d)} returning key, bucket, n`,
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
 * the request's commit in store/queries/store.ts): the events of `keys` in the request's `bucket`, and
 * the `bounded` increments (its rate limits) at their own buckets, each tested against its bound on
 * the total the statement returns: one over it throws {@link CommitRefused}, which rolls the whole
 * transaction back. A statement may not update one row twice (PostgreSQL), so repeated rows are summed.
 */
export function* incrementCounters(keys: readonly string[], bucket: number, bounded: readonly BoundedCount[] = []): Generator<Step, void, unknown> {
  if (keys.length === 0 && bounded.length === 0) return;
  const rows = new Map<string, { key: string; bucket: number; n: number }>();
  const add = (key: string, b: number, n: number) => {
    const id = `${b}:${key}`;
    const row = rows.get(id);
    if (row) row.n += n;
    else rows.set(id, { key, bucket: b, n });
  };
  for (const key of keys) add(key, bucket, 1);
  for (const t of bounded) add(t.key, t.bucket, t.add);
  const sorted = [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.bucket - b.bucket));
  const params = { key: sorted.map((r) => r.key), bucket: sorted.map((r) => r.bucket), n: sorted.map((r) => r.n) };
  if (bounded.length === 0) {
    yield* run(q.incrMany, params);
    return;
  }
  const totals = new Map((yield* all(q.incrManyReturning, params)).map((r) => [`${r.bucket}:${r.key}`, r.n]));
  for (const t of bounded) {
    // A row counted by other increments of this statement too is tested on the whole total: stricter, never looser.
    if ((totals.get(`${t.bucket}:${t.key}`) ?? Number.POSITIVE_INFINITY) > t.max) throw new CommitRefused("limits");
  }
}
