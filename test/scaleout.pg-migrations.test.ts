import "reflect-metadata";
import { readdirSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATION_LOCK_KEY, PgDb } from "../src/store/sql/pg.js";
import { backendStatus, createFreshPgDatabase, type FreshPgDatabase } from "./helpers/backends.js";

const { pg: pgStatus } = backendStatus();
const migrationFiles = readdirSync(new URL("../drizzle/pg", import.meta.url)).filter((f) => f.endsWith(".sql"));

/**
 * PostgreSQL migrations run on start (store/sql/pg.ts), under an advisory lock: N instances that
 * start together on an empty database migrate it once, and none starts before the schema is complete.
 */
describe.skipIf(pgStatus.reason !== null)(pgStatus.reason ? `PostgreSQL migrations not run: ${pgStatus.reason}` : "PostgreSQL migrations on start", () => {
  let db: FreshPgDatabase;
  let admin: pg.Client;
  beforeAll(async () => {
    db = await createFreshPgDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it("applies every migration exactly once when eight instances start at the same moment", async () => {
    const stores = await Promise.all(Array.from({ length: 8 }, () => PgDb.open(db.url, { max: 2 })));
    try {
      const { rows } = await admin.query<{ hash: string }>("select hash from drizzle.__drizzle_migrations");
      expect(rows).toHaveLength(migrationFiles.length);
      expect(new Set(rows.map((r) => r.hash)).size).toBe(migrationFiles.length);
      // Every instance came up on the complete schema (the last migration's objects exist).
      await Promise.all(stores.map((s) => s.ping()));
      const { rows: triggers } = await admin.query("select tgname from pg_trigger where tgname like 'risk_rollups_%'");
      expect(triggers).toHaveLength(2);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("releases the lock: nothing holds it once the instances are up, and a restart finds nothing to do", async () => {
    const s = await PgDb.open(db.url, { max: 1 });
    try {
      // This database's lock only: other runs on the same server migrate their own databases meanwhile.
      const { rows } = await admin.query(
        "select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database()) and ((classid::bigint << 32) | objid::bigint) = $1",
        [MIGRATION_LOCK_KEY.toString()],
      );
      expect(rows).toEqual([]);
      const { rows: applied } = await admin.query("select count(*)::int as n from drizzle.__drizzle_migrations");
      expect(applied[0].n).toBe(migrationFiles.length);
    } finally {
      await s.close();
    }
  });
});
