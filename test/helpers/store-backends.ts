import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../src/config.js";
import { openDatabase, type Database } from "../../src/store/open.js";
import { PgDb } from "../../src/store/sql/pg.js";
import { SqliteDb } from "../../src/store/sql/sqlite.js";
import { backendStatus, createFreshPgDatabase } from "./backends.js";

/**
 * One database opened for a contract run through the app's own composition (store/open.ts), with as
 * many handles on it as a test wants.
 */
export interface OpenedBackend {
  /** What DATABASE_URL would say for this database. */
  location: Config["database"];
  /** Every store of the first handle. */
  db: Database;
  /** Another handle on the same database: a second process / instance, for race tests. */
  another(): Promise<Database>;
  /** Runs a read-only SQL query written for both dialects, `$1, $2…` in order (asserts on raw rows). */
  query<R extends Record<string, unknown>>(text: string, params: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export interface StoreBackend {
  name: "SQLite" | "PostgreSQL";
  /** Why this backend's suites do not run here (null = they run). */
  skipReason: string | null;
  open(): Promise<OpenedBackend>;
}

async function openOn(location: Config["database"], cleanup: () => Promise<void>): Promise<OpenedBackend> {
  const handles: Database[] = [];
  try {
    handles.push(await openDatabase(location));
  } catch (err) {
    await cleanup();
    throw err;
  }
  const first = handles[0]!;
  return {
    location,
    db: first,
    async another() {
      const d = await openDatabase(location);
      handles.push(d);
      return d;
    },
    async query(text, params) {
      if (first.db instanceof PgDb) return (await first.db.pool.query(text, params)).rows;
      if (first.db instanceof SqliteDb) return first.db.sqlite.prepare(text.replace(/\$\d+/g, "?")).all(...params) as never;
      throw new Error("unknown database");
    },
    async close() {
      for (const h of handles) await h.close();
      await cleanup();
    },
  };
}

/** SQLite on a fresh temp file; `another()` opens a second connection to the same file. */
export const sqliteBackend: StoreBackend = {
  name: "SQLite",
  skipReason: null,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), "vg-contract-"));
    return openOn({ kind: "sqlite", file: join(dir, "verify.db") }, async () => rmSync(dir, { recursive: true, force: true }));
  },
};

/** PostgreSQL on a database created for this run (CREATE DATABASE vg_<random>) and dropped after. */
export function pgBackend(): StoreBackend {
  return {
    name: "PostgreSQL",
    skipReason: backendStatus().pg.reason,
    async open() {
      const fresh = await createFreshPgDatabase();
      return openOn({ kind: "postgres", url: fresh.url }, () => fresh.drop());
    },
  };
}

/** Every store backend, in the order the contract suites run them. */
export function storeBackends(): StoreBackend[] {
  return [sqliteBackend, pgBackend()];
}
