import type { Redis } from "ioredis";
import { AppError } from "../errors.js";
import type { Logger } from "../log.js";
import { bucketStart, type CounterRead, type WindowCounter } from "./window-counter.js";

export interface RedisWindowCounterOptions {
  /** Bucket width in milliseconds (the SQLite counter's resolution). @default 10_000 */
  bucketMs?: number;
  /** Buckets older than this are dropped; must exceed the longest detector window. @default 48 hours */
  retentionMs?: number;
  /** Where a Redis failure is logged (the caller only sees 20503). */
  log?: Logger;
}

/** Seconds a caller refused during a Redis outage is told to wait. */
const UNAVAILABLE_RETRY_SECONDS = 5;

/**
 * Per key, two Redis keys with a shared hash tag (one cluster slot): a hash bucket -> count and a
 * sorted set of the buckets (score = bucket start) that says which buckets a range covers and which
 * are old enough to drop. Each operation is one Lua script, so it is atomic against every instance.
 */
const INCR = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
for _, b in ipairs(old) do redis.call('HDEL', KEYS[1], b) end
if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`;

const COUNT = `
local total = 0
for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[2])) do
  total = total + tonumber(redis.call('HGET', KEYS[1], b) or '0')
end
return total`;

type Scripted = Redis & {
  vgWindowIncr(counts: string, buckets: string, bucket: number, cutoff: number, ttlMs: number): Promise<number>;
  vgWindowCount(counts: string, buckets: string, from: number, to: number): Promise<number>;
};

/**
 * The fraud detectors' {@link WindowCounter} in Redis (REDIS_URL), so the pumping detector and the
 * signals see the traffic of every instance, not one instance's share of it. Same bucketing as the
 * SQLite counter (events fall in fixed buckets of the injected clock; a range counts the buckets it
 * overlaps), so both pass the same contract tests. Idle keys expire after the retention.
 */
export class RedisWindowCounter implements WindowCounter {
  readonly inStore = false;
  private readonly redis: Scripted;
  private readonly bucketMs: number;
  private readonly retentionMs: number;
  private readonly log?: Logger;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    opts: RedisWindowCounterOptions = {},
  ) {
    this.bucketMs = opts.bucketMs ?? 10_000;
    this.retentionMs = opts.retentionMs ?? 48 * 3_600_000;
    this.log = opts.log;
    if (!("vgWindowIncr" in redis)) {
      redis.defineCommand("vgWindowIncr", { numberOfKeys: 2, lua: INCR });
      redis.defineCommand("vgWindowCount", { numberOfKeys: 2, lua: COUNT });
    }
    this.redis = redis as Scripted;
  }

  async incr(key: string, now: number): Promise<void> {
    const [counts, buckets] = this.keys(key);
    await this.guard(() => this.redis.vgWindowIncr(counts, buckets, this.bucketOf(now), now - this.retentionMs, this.retentionMs));
  }

  async incrMany(keys: readonly string[], now: number): Promise<void> {
    if (keys.length === 0) return;
    const bucket = this.bucketOf(now);
    // Each key stays its own atomic script (its two Redis keys share a slot; the batch's keys may
    // not); ioredis writes them all before any reply arrives, so the batch costs one round trip.
    await this.guard(() =>
      Promise.all(keys.map((key) => this.redis.vgWindowIncr(...this.keys(key), bucket, now - this.retentionMs, this.retentionMs))),
    );
  }

  async count(key: string, from: number, to: number): Promise<number> {
    if (to < from) return 0;
    const [counts, buckets] = this.keys(key);
    return Number(await this.guard(() => this.redis.vgWindowCount(counts, buckets, this.bucketOf(from), to)));
  }

  async countMany(reads: readonly CounterRead[]): Promise<number[]> {
    // One script per read, written together before any reply: one round trip for the batch.
    return this.guard(() =>
      Promise.all(reads.map((r) => (r.to < r.from ? 0 : this.redis.vgWindowCount(...this.keys(r.key), this.bucketOf(r.from), r.to).then(Number)))),
    );
  }

  async reset(key: string): Promise<void> {
    await this.guard(() => this.redis.del(...this.keys(key)));
  }

  /**
   * A Redis outage refuses the request with 20503 (retry later), as the limiter does when its store
   * fails (fail closed): the fraud detectors cannot judge a send without their counters, and an
   * unguarded send is what this product exists to prevent. The cause goes to the log.
   */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      this.log?.error("fraud window counters unavailable (redis); refusing the request", { error: err instanceof Error ? err.message : String(err) });
      throw new AppError("SERVICE_UNAVAILABLE", undefined, { retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS, cause: err });
    }
  }

  private keys(key: string): [string, string] {
    const base = `${this.prefix}wc:{${key}}`;
    return [`${base}:n`, `${base}:b`];
  }

  private bucketOf(t: number): number {
    return bucketStart(t, this.bucketMs);
  }
}
