import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Clock } from "../clock.js";
import type { BoundedCount } from "../store/types.js";
import type { CounterRead, CounterReads } from "./window-counter.js";

/**
 * Sliding-window rate limits, and the two places their counters can live.
 *
 * - **The database** (the embedded default, and PostgreSQL without Redis): a limit is decided from the
 *   request's one batched counter read ({@link limitReads}, {@link judgeLimit}) and taken in the
 *   request's own transaction as a bounded increment (store/types.ts's BoundedCount): the commit adds
 *   the points and fails if the window then holds more than the read allowed, so concurrent requests
 *   cannot overshoot together (SQLite serialises writers; PostgreSQL's upsert locks the row and each
 *   commit sees the total of the ones before it). No statement and no commit of its own.
 * - **Redis** (REDIS_URL, shared by every instance): the {@link Limiter} seam over
 *   rate-limiter-flexible's RateLimiterRedis ({@link SlidingWindowLimiter}): Redis is outside the
 *   database's transaction, so there the limit is consumed before the commit, atomically in Redis (a
 *   Lua script), and given back when the request turns out not to count. rate-limiter-flexible earns
 *   its place there: the atomic increment with expiry per key across instances is what it does. In
 *   process memory (RateLimiterMemory) the same limiter serves tests.
 *
 * Both judge a request the same way ({@link judgeLimit}), so they give the same answers.
 */

/** A limit: at most `max` points per sliding window of `windowMs`. */
export interface LimitSpec {
  max: number;
  windowMs: number;
}

export interface LimitResult {
  allowed: boolean;
  /** When a retry may succeed, if nothing else is consumed meanwhile; 0 when allowed. */
  retryAfterMs: number;
  /** The sliding-window estimate of points used, including this request's when allowed. */
  used: number;
}

export interface Limiter {
  /**
   * Takes `points` from the limit under `key` if they fit; a rejected consume takes nothing.
   * Throws {@link LimiterUnavailableError} when the counter store fails (never for a limit hit).
   */
  consume(key: string, points: number, spec: LimitSpec): Promise<LimitResult>;
  /** Gives back points taken by an allowed consume (a multi-limit request that another limit refused). */
  refund(key: string, points: number, spec: LimitSpec): Promise<void>;
}

/** The counter store failed (as opposed to a limit being hit). */
export class LimiterUnavailableError extends Error {
  override name = "LimiterUnavailableError";
}

/**
 * What a backend must offer: rate-limiter-flexible's store limiters used as atomic counters with an
 * expiry (consume = atomic increment returning the new total; reward = decrement; get = read).
 */
export interface Counters {
  consume(key: string, points: number, options: { customDuration: number }): Promise<RateLimiterRes>;
  reward(key: string, points: number, options: { customDuration: number }): Promise<RateLimiterRes>;
  get(key: string): Promise<RateLimiterRes | null>;
}

/**
 * Counters never reject on their own: the limit is judged here, against the injected clock. This many
 * points is the counters' configured ceiling, out of reach of any real limit.
 */
export const COUNTER_POINTS = Number.MAX_SAFE_INTEGER;

/** In-process counters (tests, single instance without persistence). */
export function memoryCounters(): Counters {
  return new RateLimiterMemory({ points: COUNTER_POINTS, duration: 0, keyPrefix: "vg" });
}

/**
 * The sliding window (the approximation Cloudflare describes in "How we built rate limiting capable of
 * scaling to millions of domains"): each key counts per fixed window of the injected clock, and a
 * request is judged on `previous × (1 − elapsed fraction) + current`. Unlike a fixed window it does not
 * let a burst of 2 × max through across a window boundary; unlike a log it costs two counters. Windows
 * come from the injected clock (the window number is part of the stored key), so tests move time with
 * a ManualClock; a store's expiry only garbage-collects windows after they stop mattering.
 */
export function windowAt(now: number, spec: LimitSpec): { w: number; elapsed: number } {
  const w = Math.floor(now / spec.windowMs);
  return { w, elapsed: (now - w * spec.windowMs) / spec.windowMs };
}

/** A limit's verdict, and the most its current window may hold with this request in it. */
export interface LimitVerdict extends LimitResult {
  /** `cur` (with this request's points) may be at most this for the request to fit. */
  ceiling: number;
}

/**
 * Judges a request of `points` against a limit whose current window holds `cur` (before the request)
 * and whose previous window holds `prev`. The one rule both counter stores apply.
 */
export function judgeLimit(a: { now: number; spec: LimitSpec; prev: number; cur: number; points: number }): LimitVerdict {
  const { now, spec, prev, cur, points } = a;
  const { w, elapsed } = windowAt(now, spec);
  const carried = prev * (1 - elapsed);
  // The integer `cur` passes while carried + cur ≤ max; the epsilon absorbs the float's last bit.
  const ceiling = Math.floor(spec.max - carried + 1e-9);
  if (cur + points <= ceiling) return { allowed: true, retryAfterMs: 0, used: carried + cur + points, ceiling };
  return { allowed: false, retryAfterMs: retryAfter({ now, w, prev, before: cur, points, spec }), used: carried + cur, ceiling };
}

/** A limit window's row among the database's counters: the key names the window; the bucket is when it stops mattering (the end of the next window), so the counters' retention keeps it as long as it is read. */
function windowRow(key: string, w: number, spec: LimitSpec): { key: string; bucket: number } {
  return { key: `vg:${windowKey(key, w)}`, bucket: (w + 2) * spec.windowMs };
}

/** The counter sums a limit is decided from (its previous and current windows), for the request's batched read. */
export function limitReads(key: string, spec: LimitSpec, now: number): CounterRead[] {
  const { w } = windowAt(now, spec);
  return [w - 1, w].map((x) => {
    const row = windowRow(key, x, spec);
    return { key: row.key, from: row.bucket, to: row.bucket };
  });
}

/**
 * A limit decided from the request's reads ({@link limitReads}), and the bounded increment that takes
 * it in the request's commit: the commit fails (and the request is decided again on fresh reads) when
 * other requests filled the window meanwhile.
 */
export function decideLimit(key: string, spec: LimitSpec, points: number, now: number, reads: Pick<CounterReads, "count">): { verdict: LimitVerdict; take: BoundedCount } {
  const [prev, cur] = limitReads(key, spec, now).map((r) => reads.count(r.key, r.from, r.to)) as [number, number];
  const verdict = judgeLimit({ now, spec, prev, cur, points });
  const row = windowRow(key, windowAt(now, spec).w, spec);
  return { verdict, take: { key: row.key, bucket: row.bucket, add: points, max: verdict.ceiling } };
}

/**
 * The {@link Limiter} over rate-limiter-flexible counters (Redis; memory in tests): the increment is
 * atomic in the counters' store, and the decision is made on the total it returns.
 */
export class SlidingWindowLimiter implements Limiter {
  constructor(
    private readonly counters: Counters,
    private readonly clock: Clock,
  ) {}

  async consume(key: string, points: number, spec: LimitSpec): Promise<LimitResult> {
    const now = this.clock.now();
    const { w } = windowAt(now, spec);
    const opts = { customDuration: keepSeconds(spec) };
    const curKey = windowKey(key, w);
    // The gate: the increment is atomic in every backend, and the decision is made on the total it
    // returns, so N concurrent requests see N distinct totals and at most `max` of them pass.
    const cur = await guard(() => this.counters.consume(curKey, points, opts));
    let prev: number;
    try {
      prev = (await this.counters.get(windowKey(key, w - 1)))?.consumedPoints ?? 0;
    } catch (err) {
      await this.counters.reward(curKey, points, opts).catch(() => undefined);
      throw new LimiterUnavailableError("limiter store failed", { cause: err });
    }
    const verdict = judgeLimit({ now, spec, prev, cur: cur.consumedPoints - points, points });
    // Refused: give the points back so a refused request costs nothing (hammering does not push the
    // window further out, and the estimate keeps counting only what was let through).
    if (!verdict.allowed) await guard(() => this.counters.reward(curKey, points, opts));
    return { allowed: verdict.allowed, retryAfterMs: verdict.retryAfterMs, used: verdict.used };
  }

  async refund(key: string, points: number, spec: LimitSpec): Promise<void> {
    const { w } = windowAt(this.clock.now(), spec);
    await guard(() => this.counters.reward(windowKey(key, w), points, { customDuration: keepSeconds(spec) }));
  }
}

/**
 * Consumes several limits for one request, all or nothing: on the first refusal, points already
 * taken from the others are given back. (rate-limiter-flexible's RateLimiterUnion would keep them.)
 * On a store failure the points taken so far are given back too, best effort, and the error goes up.
 */
export async function consumeAll(
  limiter: Limiter,
  items: readonly { key: string; spec: LimitSpec; points?: number }[],
): Promise<{ allowed: true } | { allowed: false; index: number; retryAfterMs: number }> {
  const taken: { key: string; spec: LimitSpec; points: number }[] = [];
  const giveBack = () => Promise.all(taken.map((t) => limiter.refund(t.key, t.points, t.spec).catch(() => undefined)));
  for (const [index, item] of items.entries()) {
    const points = item.points ?? 1;
    let r: LimitResult;
    try {
      r = await limiter.consume(item.key, points, item.spec);
    } catch (err) {
      await giveBack();
      throw err;
    }
    if (!r.allowed) {
      await giveBack();
      return { allowed: false, index, retryAfterMs: r.retryAfterMs };
    }
    taken.push({ key: item.key, spec: item.spec, points });
  }
  return { allowed: true };
}

function windowKey(key: string, w: number): string {
  return [key, `w${w}`].join("::");
}

/** Rows must outlive the next window, which reads them as "previous". */
function keepSeconds(spec: LimitSpec): number {
  return Math.ceil((2 * spec.windowMs) / 1000) + 1;
}

/** Tells a store failure (an Error) from anything else; counters configured as above never reject. */
async function guard(op: () => Promise<RateLimiterRes>): Promise<RateLimiterRes> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof RateLimiterRes) return err; // a rejection: still carries the new total
    throw new LimiterUnavailableError("limiter store failed", { cause: err });
  }
}

/**
 * The earliest time the same request would pass if nothing else came in: later in this window, once
 * the previous window's weight has decayed enough; or in the next one, once this window's has.
 */
function retryAfter(a: { now: number; w: number; prev: number; before: number; points: number; spec: LimitSpec }): number {
  const { now, w, prev, before, points, spec } = a;
  const d = spec.windowMs;
  if (points > spec.max) return 2 * d;
  const start = w * d;
  const slack = spec.max - before - points;
  if (slack >= 0 && prev > 0) {
    const g = 1 - slack / prev;
    if (g < 1) return Math.max(1, Math.ceil(start + g * d - now));
  }
  const h = before + points <= spec.max ? 0 : 1 - (spec.max - points) / before;
  return Math.max(1, Math.ceil(start + d + h * d - now));
}
