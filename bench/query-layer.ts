import Database from "better-sqlite3";
import { eq, sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { bigint, pgTable, text as pgText } from "drizzle-orm/pg-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { selectList } from "../src/store/schema/define.js";
import { apiKeys } from "../src/store/schema/tables.js";
import { PgDb } from "../src/store/sql/pg.js";
import { query } from "../src/store/sql/query.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";
import { timeEach, type Timing } from "./lib/timing.js";

/**
 * How the query layer was chosen (docs/store.md): the cost of one one-row lookup by key through each
 * candidate, on the same table and connection. Kysely is not a dependency: its SQLite driver calls
 * better-sqlite3's `prepare()` on every execution, so "prepare per call" is a floor under its cost
 * (its own query compilation comes on top).
 */
export interface QueryLayerResults {
  sqlite: Record<string, Timing>;
  postgres: Record<string, Timing> | null;
}

// drizzle's view of api_keys (two columns suffice for the lookup).
const sqliteKeys = sqliteTable("api_keys", { id: text("id").primaryKey(), keyHash: text("key_hash").notNull(), createdAt: integer("created_at").notNull() });
const pgKeys = pgTable("api_keys", { id: pgText("id").primaryKey(), keyHash: pgText("key_hash").notNull(), createdAt: bigint("created_at", { mode: "number" }).notNull() });
const ours = query<{ keyHash: string }>(`select ${selectList(apiKeys)} from api_keys where key_hash = :keyHash`);
const TEXT = `select ${selectList(apiKeys)} from api_keys where key_hash = `;

export async function runQueryLayer(iterations: number, pgUrl: string | null, log: (line: string) => void): Promise<QueryLayerResults> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-ql-"));
  const keys = Array.from({ length: 1000 }, (_, i) => `hash-${i}`);
  const warmup = Math.min(1000, Math.ceil(iterations / 5));
  const k = (i: number) => keys[i % keys.length]!;
  try {
    log("  query layer: SQLite");
    const db = new SqliteDb(join(dir, "q.db"));
    const insert = db.sqlite.prepare("insert into api_keys (id, key_hash, role, created_at) values (?, ?, 'ADMIN', 0)");
    for (const [i, h] of keys.entries()) insert.run(`VK${i}`, h);
    const d = drizzleSqlite(db.sqlite);
    const raw = db.sqlite.prepare(`${TEXT}?`);
    const prepared = d.select().from(sqliteKeys).where(eq(sqliteKeys.keyHash, sql.placeholder("h"))).prepare();
    const sqlite: Record<string, Timing> = {
      "better-sqlite3 statement (floor)": await timeEach(iterations, warmup, (i) => raw.get(k(i))),
      "this layer: prepared query()": await timeEach(iterations, warmup, (i) => db.get(ours, { keyHash: k(i) })),
      "drizzle prepared query": await timeEach(iterations, warmup, (i) => prepared.get({ h: k(i) })),
      "drizzle builder per call": await timeEach(iterations, warmup, (i) => d.select().from(sqliteKeys).where(eq(sqliteKeys.keyHash, k(i))).get()),
      "drizzle sql`` per call": await timeEach(iterations, warmup, (i) => d.get(sql`select * from api_keys where key_hash = ${k(i)}`)),
      // The connection's prepare() is cached by text (sql/statement-cache.ts): call the uncached one.
      "prepare per call (Kysely's driver; floor)": await timeEach(iterations, warmup, (i) => Database.prototype.prepare.call(db.sqlite, `${TEXT}?`).get(k(i))),
    };
    await db.close();

    let postgres: Record<string, Timing> | null = null;
    if (pgUrl) {
      log("  query layer: PostgreSQL");
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      const name = `vg_bench_ql_${process.pid}`;
      await admin.query(`create database ${name}`);
      const url = new URL(pgUrl);
      url.pathname = `/${name}`;
      const n = Math.max(200, Math.floor(iterations / 10));
      try {
        const pdb = await PgDb.open(url.toString(), { max: 1 });
        for (const [i, h] of keys.entries()) await pdb.pool.query("insert into api_keys (id, key_hash, role, created_at) values ($1, $2, 'ADMIN', 0)", [`VK${i}`, h]);
        const pd = drizzlePg(pdb.pool);
        const pPrepared = pd.select().from(pgKeys).where(eq(pgKeys.keyHash, sql.placeholder("h"))).prepare("vg_bench_ql");
        postgres = {
          "node-postgres named statement (floor)": await timeEach(n, 50, (i) => pdb.pool.query({ name: "vg_bench_raw", text: `${TEXT}$1`, values: [k(i)] })),
          "this layer: prepared query()": await timeEach(n, 50, (i) => pdb.get(ours, { keyHash: k(i) })),
          "drizzle prepared query": await timeEach(n, 50, (i) => pPrepared.execute({ h: k(i) })),
          "drizzle builder per call": await timeEach(n, 50, (i) => pd.select().from(pgKeys).where(eq(pgKeys.keyHash, k(i)))),
        };
        await pdb.close();
      } finally {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    }
    return { sqlite, postgres };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
