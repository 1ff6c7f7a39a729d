import { Redis } from "ioredis";
import { createRedisEventTarget } from "./events/redis.js";
import type { EventTransport } from "./events/pubsub.js";
import type { Logger } from "./log.js";

/**
 * One place that says how verify-guard talks to Redis (REDIS_URL): the limiter, the detector's
 * counters and the event bus each get a connection from here. Requests must not hang on an outage:
 * a command is retried at most twice while ioredis reconnects, then fails, so the request answers
 * INTERNAL and /readyz reports the outage, instead of piling up.
 */
export function createRedis(url: string, log: Logger, role: string): Redis {
  const redis = new Redis(url, {
    connectionName: `verify-guard:${role}`,
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    // Reconnect forever with a capped backoff: the service comes back when Redis does.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let down = false;
  // Without a listener ioredis prints every failed reconnect; log the outage once, and the recovery.
  redis.on("error", (err) => {
    if (!down) log.error("redis connection error", { role, error: err.message });
    down = true;
  });
  redis.on("ready", () => {
    if (down) log.info("redis connection restored", { role });
    down = false;
  });
  return redis;
}

/** Readiness probe: PING with a deadline, so /readyz answers promptly while Redis is away. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer PING within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a connection politely (QUIT), or drops it when Redis is unreachable. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  try {
    if (redis.status === "ready") await redis.quit();
    else redis.disconnect();
  } catch {
    redis.disconnect();
  }
}

/** The Redis side of a scale-out deployment: a command connection and the cross-instance event target. */
export interface RedisBackends {
  /** Commands (limiter, detector counters, PUBLISH). */
  client: Redis;
  /** Pub/sub transport for the event bus (uses its own subscriber connection). */
  eventTarget: EventTransport;
  /** Key and channel prefix (REDIS_KEY_PREFIX). */
  prefix: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the connections REDIS_URL asks for: one for commands, one in subscriber mode for events. */
export function openRedisBackends(url: string, prefix: string, log: Logger): RedisBackends {
  const client = createRedis(url, log, "commands");
  const subscriber = createRedis(url, log, "events");
  const eventTarget = createRedisEventTarget({ publisher: client, subscriber, prefix: `${prefix}events:`, log });
  return {
    client,
    eventTarget,
    prefix,
    ping: () => pingRedis(client),
    async close() {
      await Promise.all([closeRedis(client), closeRedis(subscriber)]);
    },
  };
}

/**
 * Keys under `prefix` that contain `token` (the limiter's and detectors' keys of one number: an
 * erasure's and an export's view of Redis), found with SCAN, so Redis never blocks on a KEYS.
 * Tokens are base64url, which holds no glob character.
 */
export function redisKeysWith(client: Redis, prefix: string): { keysContaining(token: string): Promise<string[]>; remove(keys: string[]): Promise<number> } {
  return {
    async keysContaining(token) {
      const found = new Set<string>();
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*${token}*`, "COUNT", 1000);
        for (const k of keys) found.add(k);
        cursor = next;
      } while (cursor !== "0");
      return [...found].sort();
    },
    async remove(keys) {
      let n = 0;
      for (let i = 0; i < keys.length; i += 500) n += await client.unlink(...keys.slice(i, i + 500));
      return n;
    },
  };
}
