import type { Redis } from "ioredis";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { COUNTER_POINTS, type Counters } from "./limiter.js";

/**
 * Limiter counters in Redis (rate-limiter-flexible's RateLimiterRedis), for N instances behind a load
 * balancer: every instance increments the same keys, so a per-number or per-IP limit holds across all
 * of them. The increment and its TTL are one Lua script (atomic in Redis), which is what the sliding
 * window's gate in limiter.ts relies on. Keys: `<REDIS_KEY_PREFIX>rl:<limiter key>::w<window>`.
 */
export function redisCounters(redis: Redis, prefix: string): Counters {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${prefix}rl`,
    points: COUNTER_POINTS,
    duration: 0,
  });
}
