import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type {} from "vitest";

/**
 * Probes for the scale-out suites' PostgreSQL and Redis. Runs in vitest's main process (globalSetup),
 * so it imports nothing of vitest's runtime; test files read the verdict through test/helpers/backends.ts.
 */

export const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export interface BackendProbe {
  url: string;
  available: boolean;
  /** Why the suites are skipped (null when they run). */
  reason: string | null;
  /** True when the URL came from the env (then the suites run even if the probe failed). */
  required: boolean;
}

export interface BackendStatus {
  pg: BackendProbe;
  redis: BackendProbe;
  /** Names this run's databases (`vg_<runId>_…`), so its teardown drops exactly what it created. */
  runId: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    backends: BackendStatus;
  }
}

/** Probes PostgreSQL and Redis with short timeouts; used by the globalSetup. */
export async function probeBackends(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { pg: string; redis: string } = { pg: DEFAULT_PG_URL, redis: DEFAULT_REDIS_URL },
): Promise<BackendStatus> {
  const pgUrl = env.TEST_DATABASE_URL || defaults.pg;
  const redisUrl = env.TEST_REDIS_URL || defaults.redis;
  const [pgErr, redisErr] = await Promise.all([probePg(pgUrl), probeRedis(redisUrl)]);
  const verdict = (url: string, required: boolean, err: string | null): BackendProbe => ({
    url,
    required,
    available: err === null || required,
    reason: err === null || required ? null : err,
  });
  return {
    pg: verdict(pgUrl, Boolean(env.TEST_DATABASE_URL), pgErr),
    redis: verdict(redisUrl, Boolean(env.TEST_REDIS_URL), redisErr),
    runId: randomBytes(4).toString("hex"),
  };
}

/** Deletes every Redis key this run wrote (`vg-test:<runId>:…`, see randomRedisPrefix). */
export async function deleteRunKeys(status: BackendStatus): Promise<number> {
  if (!status.redis.available) return 0;
  const redis = new Redis(status.redis.url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  let n = 0;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `vg-test:${status.runId}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) n += await redis.del(...keys);
    } while (cursor !== "0");
  } catch {
    // best effort: the keys expire on their own
  } finally {
    redis.disconnect();
  }
  return n;
}

/**
 * Drops every database this run created and left behind (a test that crashed before its own cleanup,
 * or servers the harness restarted over one database). Other runs' databases are not touched.
 */
export async function dropRunDatabases(status: BackendStatus): Promise<number> {
  if (!status.pg.available) return 0;
  const client = new pg.Client({ connectionString: status.pg.url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like $1", [`vg_${status.runId}_%`]);
    for (const r of rows) await client.query(`drop database if exists "${r.datname}" with (force)`);
    return rows.length;
  } catch {
    return 0; // best effort: the server went away, nothing to clean
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probePg(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (err) {
    return `PostgreSQL at ${redact(url)} is not reachable (${errText(err)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's own error (ECONNREFUSED, …) says more than connect()'s "Connection is closed".
  let socketError: unknown = null;
  redis.on("error", (err) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return `Redis at ${redact(url)} is not reachable (${errText(socketError ?? err)})`;
  } finally {
    redis.disconnect();
  }
}

const errText = (err: unknown) => (err instanceof Error ? err.message || err.name : String(err)).split("\n")[0];
/** Hides a password in a URL before printing it. */
export const redact = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");

