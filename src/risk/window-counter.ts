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
  /**
   * {@link count} for every read at once, in their order: one statement, or one Redis round trip. A
   * request's stages declare what they read and get it from one call (risk/pipeline.ts).
   */
  countMany(reads: readonly CounterRead[]): Promise<number[]>;
  /**
   * True when the counters live in the store's database: a request's increments are then committed in
   * the request's own transaction (store.commitStart / commitCheck / commitDecision) instead of by
   * {@link incrMany} after it.
   */
  readonly inStore: boolean;
  /** Forgets every event of `key` (an admin lifted a block: judge the prefix afresh). */
  reset(key: string): Promise<void>;
}

/** One sum a stage reads: the events of `key` with a time in `[from, to]`. */
export interface CounterRead {
  key: string;
  from: number;
  to: number;
}

/**
 * The sums a request's stages declared, fetched in one batch before they decide. Asking for a read
 * that was not declared is a programming error (it would be a query of its own): it throws.
 */
export class CounterReads {
  private readonly values = new Map<string, number>();

  constructor(reads: readonly CounterRead[], values: readonly number[]) {
    reads.forEach((r, i) => this.values.set(readId(r), values[i] ?? 0));
  }

  count(key: string, from: number, to: number): number {
    const v = this.values.get(readId({ key, from, to }));
    if (v === undefined) throw new Error(`counter read ${key} [${from}, ${to}] was not declared by its stage`);
    return v;
  }

  /** Fetches `reads` (duplicates once) from `counter`. */
  static async fetch(counter: Pick<WindowCounter, "countMany">, reads: readonly CounterRead[]): Promise<CounterReads> {
    const unique = [...new Map(reads.map((r) => [readId(r), r])).values()];
    return new CounterReads(unique, unique.length ? await counter.countMany(unique) : []);
  }
}

const readId = (r: CounterRead) => `${r.from}:${r.to}:${r.key}`;

/** The start of the fixed bucket of width `bucketMs` that holds time `t` (every backend buckets alike). */
export function bucketStart(t: number, bucketMs: number): number {
  return t - (((t % bucketMs) + bucketMs) % bucketMs);
}
