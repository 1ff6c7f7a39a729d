/**
 * Sliding-window event counters for the fraud detectors (the pumping detector and the signals).
 * Deliberately narrow so another backend is a small file: the embedded one is a SQLite table
 * (`store/queries/window-counter.ts`, survives restarts); a Redis one (a hash or sorted set per key
 * with a TTL) serves several instances.
 *
 * Events fall into fixed time buckets (the implementation's resolution, seconds); a count over
 * `[from, to]` adds the buckets that overlap it, so it may include events up to one bucket older
 * than `from`. The detectors' windows are minutes to hours long, so that error is negligible, and it
 * errs towards counting more, never towards missing an attack.
 */
export interface WindowCounter {
  /** Counts one event for `key` at time `now` (milliseconds since the epoch). */
  incr(key: string, now: number): Promise<void>;
  /**
   * Counts one event at `now` for each of `keys` (a key listed twice counts twice): one request's
   * increments in one write (one SQLite transaction, one PostgreSQL statement, one Redis round trip)
   * rather than a commit each, the counters' main cost under load (`npm run bench` profile).
   */
  incrMany(keys: readonly string[], now: number): Promise<void>;
  /** Events counted for `key` with a time in `[from, to]` (at bucket resolution, see above). */
  count(key: string, from: number, to: number): Promise<number>;
  /** Forgets every event of `key` (an admin lifted a block: judge the prefix afresh). */
  reset(key: string): Promise<void>;
}

/** The start of the fixed bucket of width `bucketMs` that holds time `t` (every backend buckets alike). */
export function bucketStart(t: number, bucketMs: number): number {
  return t - (((t % bucketMs) + bucketMs) % bucketMs);
}
