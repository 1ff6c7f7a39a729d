import { Redis } from "ioredis";
import { memoryCounters, type Counters } from "../../src/risk/limiter.js";
import { redisCounters } from "../../src/risk/limiter-redis.js";
import type { WindowCounter } from "../../src/risk/window-counter.js";
import { RedisWindowCounter } from "../../src/risk/window-counter-redis.js";
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

/** The counters of a contract-run database, opened through the app's own composition (store/open.ts). */
async function viaDatabase(kind: "SQLite" | "PostgreSQL"): Promise<OpenedCounters> {
  const opened = await (kind === "SQLite" ? sqliteBackend : pgBackend()).open();
  return {
    counters: opened.db.counters,
    another: async () => (await opened.another()).counters,
    close: () => opened.close(),
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
    { name: "SQLite", skipReason: null, open: () => viaDatabase("SQLite") },
    { name: "PostgreSQL", skipReason: status.pg.reason, open: () => viaDatabase("PostgreSQL") },
    {
      name: "Redis",
      skipReason: status.redis.reason,
      async open() {
        const prefix = randomRedisPrefix();
        const clients: Redis[] = [];
        const open = async () => {
          const r = new Redis(status.redis.url, { maxRetriesPerRequest: 1 });
          clients.push(r);
          return redisCounters(r, prefix);
        };
        return {
          counters: await open(),
          another: open,
          async close() {
            await deleteRedisPrefix(clients[0]!, prefix);
            for (const c of clients) c.disconnect();
          },
        };
      },
    },
  ];
}

/** Where the fraud detectors' window counters live in a contract run, with a second handle on them. */
export interface WindowCounterBackend {
  name: "SQLite" | "PostgreSQL" | "Redis";
  skipReason: string | null;
  open(): Promise<{ counter: WindowCounter; another(): Promise<WindowCounter>; close(): Promise<void> }>;
}

export function windowCounterBackends(): WindowCounterBackend[] {
  const status = backendStatus();
  const viaDb = (kind: "SQLite" | "PostgreSQL") => async () => {
    const opened = await (kind === "SQLite" ? sqliteBackend : pgBackend()).open();
    return { counter: opened.db.windowCounter, another: async () => (await opened.another()).windowCounter, close: () => opened.close() };
  };
  return [
    { name: "SQLite", skipReason: null, open: viaDb("SQLite") },
    { name: "PostgreSQL", skipReason: status.pg.reason, open: viaDb("PostgreSQL") },
    {
      name: "Redis",
      skipReason: status.redis.reason,
      async open() {
        const prefix = randomRedisPrefix();
        const clients: Redis[] = [];
        const open = async () => {
          const r = new Redis(status.redis.url, { maxRetriesPerRequest: 1 });
          clients.push(r);
          return new RedisWindowCounter(r, prefix);
        };
        return {
          counter: await open(),
          another: open,
          async close() {
            await deleteRedisPrefix(clients[0]!, prefix);
            for (const c of clients) c.disconnect();
          },
        };
      },
    },
  ];
}
