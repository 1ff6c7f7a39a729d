import type { Redis } from "ioredis";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type { BackendStatus } from "./backend-probe.js";

/**
 * Where the scale-out suites find PostgreSQL and Redis, and whether they may run.
 *
 * `TEST_DATABASE_URL` / `TEST_REDIS_URL` (set by .ci/run) name the servers; without them the defaults
 * are this machine's local services. The vitest globalSetup (test/helpers/backends.global-setup.ts)
 * probes both once per run and prints which backend suites run and which do not, and why; suites read
 * the verdict with {@link backendStatus} and skip only when it says so. A URL given in the env is
 * never skipped: if that server is down, its suites fail.
 */

export { DEFAULT_PG_URL, DEFAULT_REDIS_URL, type BackendProbe, type BackendStatus } from "./backend-probe.js";

/** The verdict of the globalSetup probe (runs in every test file). */
export function backendStatus(): BackendStatus {
  return inject("backends");
}

/** A database created for one test run and dropped after it. */
export interface FreshPgDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates `vg_<runId>_<random>` on the server of the probed PostgreSQL URL and returns its URL. Each
 * suite gets its own database, so suites run in parallel; `drop` forces out any connection a crashed
 * server process left open, and the run's teardown drops whatever a failed test left behind.
 */
export async function createFreshPgDatabase(serverUrl = backendStatus().pg.url): Promise<FreshPgDatabase> {
  const name = `vg_${backendStatus().runId}_${randomBytes(5).toString("hex")}`;
  await adminQuery(serverUrl, `create database ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: () => adminQuery(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A key prefix no other run uses, so tests never see each other's counters (the run's teardown deletes them). */
export function randomRedisPrefix(): string {
  return `vg-test:${backendStatus().runId}:${randomBytes(5).toString("hex")}:`;
}

/** Deletes every key under `prefix` (SCAN, not KEYS: never blocks a shared server). */
export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== "0");
}

const harnessDatabases = new Map<string, { db: Promise<FreshPgDatabase>; redisPrefix: string }>();

/**
 * What the harness runs on when `VG_TEST_BACKEND` asks for the scale-out backends instead of its
 * SQLite file (a manual sweep of the e2e suites on PostgreSQL, and on Redis too):
 *   VG_TEST_BACKEND=postgres        npx vitest run test/verification.*.test.ts
 *   VG_TEST_BACKEND=postgres+redis  npx vitest run …
 * One fresh database (and Redis key prefix) per `dbFile`, so a test that restarts a server over the
 * same file gets the same state back. Returns null (use the file) when the variable is unset.
 */
export async function harnessBackendEnv(dbFile: string): Promise<Record<string, string> | null> {
  const mode = process.env.VG_TEST_BACKEND;
  if (!mode) return null;
  if (mode !== "postgres" && mode !== "postgres+redis") throw new Error(`VG_TEST_BACKEND must be postgres or postgres+redis, not ${mode}`);
  let backing = harnessDatabases.get(dbFile);
  if (!backing) harnessDatabases.set(dbFile, (backing = { db: createFreshPgDatabase(), redisPrefix: randomRedisPrefix() }));
  const env: Record<string, string> = { DATABASE_URL: (await backing.db).url };
  if (mode === "postgres+redis") Object.assign(env, { REDIS_URL: backendStatus().redis.url, REDIS_KEY_PREFIX: backing.redisPrefix });
  return env;
}

/**
 * The harness's `queryDb` for a server on PostgreSQL (VG_TEST_BACKEND): runs a query written for SQLite
 * through `psql`, synchronously like better-sqlite3, and answers rows shaped as SQLite would (booleans
 * as 0/1). `?` parameters become quoted literals; `sqlite_master` and `rowid` get PostgreSQL stand-ins.
 * A sweep tool, not a general SQL translator: a test using other SQLite-only SQL fails there, visibly.
 */
export function queryPgSync<T>(url: string, query: string, params: unknown[]): T[] {
  let i = 0;
  const literal = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "number" || typeof v === "bigint") return String(v);
    if (typeof v === "boolean") return v ? "true" : "false";
    return `'${String(v).replace(/'/g, "''")}'`;
  };
  const text = query
    .replace(/\?/g, () => literal(params[i++]))
    .replace(/\bsqlite_master\b/g, "(select table_name as name, 'table' as type from information_schema.tables where table_schema = 'public') as sqlite_master")
    .replace(/\browid\b/g, "ctid");
  const r = spawnSync("psql", [url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", `select coalesce(json_agg(q), '[]'::json) from (${text}) q`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`psql: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as Record<string, unknown>[]).map(
    (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "boolean" ? Number(v) : v])) as T,
  );
}
