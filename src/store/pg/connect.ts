import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import * as schema from "./schema.js";

export type PgDb = NodePgDatabase<typeof schema>;

/**
 * Key of the session-level advisory lock held while migrating. Any constant works as long as every
 * instance uses the same one; this is the 64-bit reading of the ASCII bytes "vg-migra".
 */
export const MIGRATION_LOCK_KEY = 0x76672d6d69677261n;

export interface PgConnectOptions {
  /** Pool size per instance. With N instances the server needs N × max connections. @default 10 */
  max?: number;
}

/**
 * Opens a connection pool and brings the schema up to date. N instances that start at once each
 * take `pg_advisory_lock` on a dedicated connection before running drizzle's migrator: the first
 * migrates, the others wait on the lock and then find every migration already recorded, so each
 * migration runs exactly once. The lock is session-level, so it is released even if the migrator
 * throws (we unlock explicitly, and closing the connection would release it anyway).
 */
export async function openPg(url: string, opts: PgConnectOptions = {}): Promise<{ pool: pg.Pool; db: PgDb }> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle client that loses its server emits 'error' on the pool; without a listener that would
  // crash the process. The next query reconnects, and /readyz reports the outage meanwhile.
  pool.on("error", () => undefined);
  try {
    await migrateLocked(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return { pool, db: drizzle(pool, { schema }) };
}

async function migrateLocked(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY.toString()]);
    try {
      await migrate(drizzle(client, { schema }), { migrationsFolder: migrationsFolder() });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY.toString()]);
    }
  } catch (err) {
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    // After a failure the session may still hold the lock: destroy it rather than pool it.
    client.release(broken);
  }
}

/** `drizzle/pg` at the repository root, from src/ (vitest) and from dist/src/ (npm start). */
function migrationsFolder(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes("/dist/") ? here.slice(0, here.lastIndexOf("/dist/")) : here.slice(0, here.lastIndexOf("/src/"));
  return join(root, "drizzle", "pg");
}
