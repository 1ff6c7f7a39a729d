import type { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import type { Logger } from "../log.js";

/**
 * Counted slots: "at most `max` holders in a pool at once" (WebSocket connections per key, per IP
 * group; subscriptions per key). The composition root picks the backend: in-process, or Redis when
 * REDIS_URL is set, so a limit holds across every instance.
 */
export interface Slots {
  /** Takes a slot of `pool` for `holder` when fewer than `max` are held; true when taken. */
  acquire(pool: string, holder: string, max: number): Promise<boolean>;
  /** Gives a slot back (a holder that holds none is ignored). */
  release(pool: string, holder: string): Promise<void>;
  /** Holders of a pool right now (tests and metrics). */
  count(pool: string): Promise<number>;
  close(): Promise<void>;
}

/** One process's slots. */
export class MemorySlots implements Slots {
  private readonly pools = new Map<string, Set<string>>();

  async acquire(pool: string, holder: string, max: number): Promise<boolean> {
    let held = this.pools.get(pool);
    if (!held) this.pools.set(pool, (held = new Set()));
    if (held.has(holder)) return true;
    if (held.size >= max) return false;
    held.add(holder);
    return true;
  }

  async release(pool: string, holder: string): Promise<void> {
    const held = this.pools.get(pool);
    if (!held) return;
    held.delete(holder);
    if (held.size === 0) this.pools.delete(pool);
  }

  async count(pool: string): Promise<number> {
    return this.pools.get(pool)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.pools.clear();
  }
}

/** Lua: `now`, in ms of Redis' clock (one clock for every instance, whatever theirs say). */
const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Take a slot when the pool (a sorted set of `instance:holder` scored by lease expiry, in Redis' own
 * clock) has fewer than `max` live members. Atomic: Redis runs a script alone, so two instances
 * cannot both take the last slot.
 */
const ACQUIRE = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

/** Extend a held slot's lease. */
const RENEW = `${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

/** Live members of a pool. */
const COUNT = `${NOW_MS}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`;

/**
 * Slots shared by every instance through Redis. Each slot is a lease: this instance renews the slots
 * it holds every `leaseMs / 3`, so the slots of an instance that dies (kill -9, no chance to release)
 * lapse within `leaseMs` instead of counting forever.
 */
export class RedisSlots implements Slots {
  private readonly instance = randomUUID();
  private readonly held = new Map<string, Set<string>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly leaseMs = 30_000,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(1_000, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  async acquire(pool: string, holder: string, max: number): Promise<boolean> {
    const taken = (await this.redis.eval(ACQUIRE, 1, this.key(pool), this.member(holder), max, this.leaseMs)) === 1;
    if (taken) {
      let set = this.held.get(pool);
      if (!set) this.held.set(pool, (set = new Set()));
      set.add(holder);
    }
    return taken;
  }

  async release(pool: string, holder: string): Promise<void> {
    const set = this.held.get(pool);
    if (!set?.delete(holder)) return;
    if (set.size === 0) this.held.delete(pool);
    await this.redis.zrem(this.key(pool), this.member(holder));
  }

  async count(pool: string): Promise<number> {
    return Number(await this.redis.eval(COUNT, 1, this.key(pool)));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.held].flatMap(([pool, holders]) => [...holders].map((h) => [pool, h] as const));
    this.held.clear();
    if (all.length === 0 || this.redis.status !== "ready") return;
    const batch = this.redis.pipeline();
    for (const [pool, holder] of all) batch.zrem(this.key(pool), this.member(holder));
    await batch.exec().catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const batch = this.redis.pipeline();
    for (const [pool, holders] of this.held) for (const h of holders) batch.eval(RENEW, 1, this.key(pool), this.member(h), this.leaseMs);
    try {
      await batch.exec();
    } catch (err) {
      this.log.warn("could not renew WebSocket slots in redis", { error: String(err) });
    }
  }

  private key(pool: string): string {
    return `${this.prefix}slots:${pool}`;
  }

  private member(holder: string): string {
    return `${this.instance}:${holder}`;
  }
}
