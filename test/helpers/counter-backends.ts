import { Redis } from "ioredis";
import { memoryCounters, type Counters } from "../../src/risk/limiter.js";
import { redisCounters } from "../../src/risk/limiter-redis.js";
import type { WindowCounter } from "../../src/risk/window-counter.js";
import { RedisWindowCounter } from "../../src/risk/window-counter-redis.js";
import type { Database } from "../../src/store/open.js";
import { backendStatus, deleteRedisPrefix, randomRedisPrefix } from "./backends.js";
import { pgBackend, sqliteBackend } from "./store-backends.js";

/**
 * Where limiter counters (and, through {@link OpenedCounters.redis}, other Redis state) live in a
 * contract run: in process, in the SQLite file, in PostgreSQL, or in Redis under a key prefix no other
 * run uses. `another()` gives a second, independent handle on the same state, as a second instance has.
 */
export interface OpenedCounters {
  counters: Counters;
  another(): Promise<Counters>;
  close(): Promise<void>;
}

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

async function countersOf(kind: "SQLite" | "PostgreSQL"): Promise<OpenedCounters> {
  const h = await viaDatabase(kind, (db) => db.counters);
  return { counters: h.first, another: h.another, close: h.close };
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
        return { counters, another: async () => counters, close: async () => undefined };
      },
    },
    { name: "SQLite", skipReason: null, open: () => countersOf("SQLite") },
    { name: "PostgreSQL", skipReason: status.pg.reason, open: () => countersOf("PostgreSQL") },
    {
      name: "Redis",
      skipReason: status.redis.reason,
      async open() {
        const h = redisHandles(status.redis.url, redisCounters);
        return { counters: await h.another(), another: h.another, close: h.close };
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
