import { Redis } from "ioredis";
import type { Clock } from "../../src/clock.js";
import { consumeAll, decideLimit, limitReads, memoryCounters, type Counters, type LimitResult, type LimitSpec, type LimitVerdict, type SlidingWindowLimiter } from "../../src/risk/limiter.js";
import { CounterReads } from "../../src/risk/window-counter.js";
import { incrementCounters } from "../../src/store/queries/window-counter.js";
import { CommitRefused, type BoundedCount } from "../../src/store/types.js";
import { redisCounters } from "../../src/risk/limiter-redis.js";
import type { WindowCounter } from "../../src/risk/window-counter.js";
import { RedisWindowCounter } from "../../src/risk/window-counter-redis.js";
import type { Database } from "../../src/store/open.js";
import { backendStatus, deleteRedisPrefix, randomRedisPrefix } from "./backends.js";
import { pgBackend, sqliteBackend } from "./store-backends.js";

/**
 * Where rate-limit counters live in a contract run: rate-limiter-flexible counters consumed at once (in
 * process, or in Redis under a key prefix no other run uses), or the database's counters, where a
 * limit is read with the request's batched read and taken in its commit (SQLite, PostgreSQL).
 * `another()` gives a second, independent handle on the same state, as a second instance has.
 */
export type OpenedCounters =
  | { kind: "at once"; counters: Counters; another(): Promise<Counters>; close(): Promise<void> }
  | { kind: "in the commit"; database: Database; another(): Promise<Database>; close(): Promise<void> };

export interface CounterBackend {
  name: "memory" | "SQLite" | "PostgreSQL" | "Redis";
  skipReason: string | null;
  open(): Promise<OpenedCounters>;
}

/**
 * `pick` of a contract-run database (opened through the app's own composition, store/open.ts): on
 * the first handle, and on another handle on the same database.
 */
async function viaDatabase<T>(kind: "SQLite" | "PostgreSQL", pick: (db: Database) => T): Promise<{ first: T; another(): Promise<T>; close(): Promise<void> }> {
  const opened = await (kind === "SQLite" ? sqliteBackend : pgBackend()).open();
  return { first: pick(opened.db), another: async () => pick(await opened.another()), close: () => opened.close() };
}

async function committedIn(kind: "SQLite" | "PostgreSQL"): Promise<OpenedCounters> {
  const h = await viaDatabase(kind, (db) => db);
  return { kind: "in the commit", database: h.first, another: h.another, close: h.close };
}

/**
 * Handles on Redis state under a key prefix no other run uses: each `another()` opens its own
 * connection (as a second instance has) and builds `make` on it; `close` deletes the prefix's keys.
 */
function redisHandles<T>(url: string, make: (redis: Redis, prefix: string) => T): { another(): Promise<T>; close(): Promise<void> } {
  const prefix = randomRedisPrefix();
  const clients: Redis[] = [];
  return {
    async another() {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      clients.push(r);
      return make(r, prefix);
    },
    async close() {
      await deleteRedisPrefix(clients[0]!, prefix);
      for (const c of clients) c.disconnect();
    },
  };
}

export function counterBackends(): CounterBackend[] {
  const status = backendStatus();
  return [
    {
      name: "memory",
      skipReason: null,
      async open() {
        const counters = memoryCounters();
        // One process, one map: a second handle is the same counters.
        return { kind: "at once", counters, another: async () => counters, close: async () => undefined };
      },
    },
    { name: "SQLite", skipReason: null, open: () => committedIn("SQLite") },
    { name: "PostgreSQL", skipReason: status.pg.reason, open: () => committedIn("PostgreSQL") },
    {
      name: "Redis",
      skipReason: status.redis.reason,
      async open() {
        const h = redisHandles(status.redis.url, redisCounters);
        return { kind: "at once", counters: await h.another(), another: h.another, close: h.close };
      },
    },
  ];
}

/** Where the fraud detectors' window counters live in a contract run, with a second handle on them. */
export interface WindowCounterBackend {
  name: "SQLite" | "PostgreSQL" | "Redis";
  skipReason: string | null;
  open(): Promise<{
    counter: WindowCounter;
    another(): Promise<WindowCounter>;
    /** The database's counters are deleted by the purger (retention/purger.ts): its statement; Redis expires them itself. */
    expire?(before: number): Promise<void>;
    close(): Promise<void>;
  }>;
}

export function windowCounterBackends(): WindowCounterBackend[] {
  const status = backendStatus();
  const viaDb = (kind: "SQLite" | "PostgreSQL") => async () => {
    const h = await viaDatabase(kind, (db) => db);
    return {
      counter: h.first.windowCounter,
      another: async () => (await h.another()).windowCounter,
      expire: async (before: number) => void (await h.first.retention.deleteCountersBefore(before, 10_000)),
      close: h.close,
    };
  };
  return [
    { name: "SQLite", skipReason: null, open: viaDb("SQLite") },
    { name: "PostgreSQL", skipReason: status.pg.reason, open: viaDb("PostgreSQL") },
    {
      name: "Redis",
      skipReason: status.redis.reason,
      async open() {
        const h = redisHandles(status.redis.url, (r, prefix) => new RedisWindowCounter(r, prefix));
        return { counter: await h.another(), another: h.another, close: h.close };
      },
    },
  ];
}

export type LimitItem = { key: string; spec: LimitSpec; points?: number };
export type LimitOutcome = { allowed: true; used: number } | { allowed: false; index: number; retryAfterMs: number; used: number };

/** What the contract asks of every backend: several limits taken all or nothing (one is `consume`). */
export interface Limits {
  consumeAll(items: LimitItem[], opts?: { notCounted?: boolean }): Promise<LimitOutcome>;
}

/** rate-limiter-flexible counters, consumed at once (Redis; memory). */
export function atOnce(limiter: SlidingWindowLimiter): Limits {
  return {
    /** `notCounted`: a request that turned out not to count (a check that was no failed attempt) gives its points back. */
    async consumeAll(items, opts = {}) {
      let out: LimitOutcome;
      if (items.length === 1) {
        const [i] = items as [LimitItem];
        const r: LimitResult = await limiter.consume(i.key, i.points ?? 1, i.spec);
        out = r.allowed ? { allowed: true, used: r.used } : { allowed: false, index: 0, retryAfterMs: r.retryAfterMs, used: r.used };
      } else {
        const r = await consumeAll(limiter, items);
        out = r.allowed ? { allowed: true, used: 0 } : { ...r, used: 0 };
      }
      if (out.allowed && opts.notCounted) for (const i of items) await limiter.refund(i.key, i.points ?? 1, i.spec);
      return out;
    },
  };
}

/**
 * The database's counters, as a request uses them: decided from one batched read, taken in one
 * transaction as bounded increments; a commit that another took first is refused and the request
 * decided again on a fresh read (what RiskPipeline.decide does for a whole request).
 */
export function inTheCommit(database: Database, clock: Clock): Limits {
  return {
    /** `notCounted`: a request that turned out not to count commits its limits tested and not taken (add 0). */
    async consumeAll(items, opts = {}) {
      for (let attempt = 0; attempt < 50; attempt++) {
        const now = clock.now();
        const reads = await CounterReads.fetch(database.windowCounter, items.flatMap((i) => limitReads(i.key, i.spec, now)));
        const takes: BoundedCount[] = [];
        let last: LimitVerdict | null = null;
        for (const [index, i] of items.entries()) {
          const { verdict, take } = decideLimit(i.key, i.spec, i.points ?? 1, now, reads);
          if (!verdict.allowed) return { allowed: false, index, retryAfterMs: verdict.retryAfterMs, used: verdict.used };
          takes.push(opts.notCounted ? { ...take, add: 0, max: take.max - take.add } : take);
          last = verdict;
        }
        try {
          await database.db.transaction(() => incrementCounters([], 0, takes));
          return { allowed: true, used: last!.used };
        } catch (err) {
          if (!(err instanceof CommitRefused)) throw err;
        }
      }
      throw new Error("overtaken 50 times in a row");
    },
  };
}

