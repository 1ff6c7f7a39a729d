import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { sqliteDialect } from "./dialect.js";
import { migrationsFolder } from "./migrations.js";
import { bind, compile, driveSync, mapRow, type Db, type Query, type Step, type TxBody } from "./query.js";
import { cacheStatements } from "./statement-cache.js";

/** Statements built per call (statistics, filtered pages) kept by their text, least recently used out. */
const ADHOC_CACHE = 200;

/**
 * The embedded database: one better-sqlite3 connection to a file in WAL mode, migrated on open.
 * better-sqlite3 is synchronous, so a statement runs to completion before anything else in this
 * process does, and a transaction body runs without yielding (see {@link Db.transaction}).
 */
export class SqliteDb implements Db {
  readonly dialect = sqliteDialect;
  /** The raw connection (rate-limiter-flexible's SQLite limiter and bulk tools share it). */
  readonly sqlite: Database.Database;
  private readonly prepared = new Map<Query<object, unknown>, { stmt: Database.Statement; names: string[] }>();
  private readonly adhoc = new Map<string, { stmt: Database.Statement; names: string[] }>();
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  /** True when opening rebuilt an existing file (VACUUM) to switch it to incremental auto-vacuum. */
  readonly rebuiltForIncrementalVacuum: boolean;

  constructor(file: string) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const sqlite = new Database(file);
    // busy_timeout makes a second process wait, not fail.
    sqlite.pragma("busy_timeout = 5000");
    // Before WAL: a new file takes auto_vacuum only until its header is first written.
    this.rebuiltForIncrementalVacuum = file !== ":memory:" && useIncrementalVacuum(sqlite);
    // WAL lets readers run beside the single writer.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    // rate-limiter-flexible's SQLite limiter compiles its statements on every call: reuse them by text.
    cacheStatements(sqlite);
    migrate(drizzle(sqlite), { migrationsFolder: migrationsFolder("sqlite") });
    this.sqlite = sqlite;
    // IMMEDIATE takes the writer lock at BEGIN: a second process waits there (busy_timeout) instead of
    // failing to upgrade a read lock halfway through the body.
    this.begin = sqlite.prepare("begin immediate");
    this.commit = sqlite.prepare("commit");
    this.rollback = sqlite.prepare("rollback");
  }

  async get<P extends object, R>(q: Query<P, R>, params: P): Promise<R | undefined> {
    return this.exec({ op: "get", q, params }) as R | undefined;
  }

  async all<P extends object, R>(q: Query<P, R>, params: P): Promise<R[]> {
    return this.exec({ op: "all", q, params }) as R[];
  }

  async run<P extends object>(q: Query<P, unknown>, params: P): Promise<number> {
    return this.exec({ op: "run", q, params }) as number;
  }

  async transaction<T>(body: () => TxBody<T>): Promise<T> {
    return this.transactionSync(body);
  }

  /** The same, synchronously (for callers that are themselves inside synchronous code). */
  transactionSync<T>(body: () => TxBody<T>): T {
    this.begin.run();
    try {
      const result = driveSync(body(), (s) => this.exec(s));
      this.commit.run();
      return result;
    } catch (err) {
      // SQLite may have rolled back already (e.g. a full disk); a second ROLLBACK would throw.
      if (this.sqlite.inTransaction) this.rollback.run();
      throw err;
    }
  }

  async ping(): Promise<void> {
    this.sqlite.prepare("select 1").get();
  }

  /** Hands up to `pages` free pages back to the file system (one short write); returns how many. */
  vacuumStep(pages: number): number {
    const free = () => this.sqlite.pragma("freelist_count", { simple: true }) as number;
    const before = free();
    if (before === 0) return 0;
    this.sqlite.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
    return before - free();
  }

  async close(): Promise<void> {
    if (this.sqlite.open) this.sqlite.close();
  }

  /** Runs one statement now. */
  exec(s: Step): unknown {
    const { stmt, names } = this.statement(s.q);
    const args = bind({ text: "", names }, s.params, this.dialect);
    if (s.op === "run") return stmt.run(...args).changes;
    if (s.op === "get") return mapRow(s.q, stmt.get(...args) as Record<string, unknown> | undefined, this.dialect);
    return (stmt.all(...args) as Record<string, unknown>[]).map((r) => mapRow(s.q, r, this.dialect));
  }

  private statement(q: Query<object, unknown>): { stmt: Database.Statement; names: string[] } {
    if (q.prepared) {
      let hit = this.prepared.get(q);
      if (!hit) {
        const c = compile(q.sql(this.dialect), this.dialect);
        hit = { stmt: this.sqlite.prepare(c.text), names: c.names };
        this.prepared.set(q, hit);
      }
      return hit;
    }
    const c = compile(q.sql(this.dialect), this.dialect);
    let hit = this.adhoc.get(c.text);
    if (hit) this.adhoc.delete(c.text); // re-inserted below: most recently used last
    else hit = { stmt: this.sqlite.prepare(c.text), names: c.names };
    this.adhoc.set(c.text, hit);
    if (this.adhoc.size > ADHOC_CACHE) this.adhoc.delete(this.adhoc.keys().next().value!);
    return hit;
  }
}

/**
 * Deleted rows leave free pages that SQLite reuses but never returns; `incremental_vacuum` (the
 * purger's, in small steps) returns them, and needs `auto_vacuum = INCREMENTAL`. A new file takes the
 * setting before its first table; an existing file is rebuilt once with VACUUM (which takes as long
 * as copying the file, and as much free disk again). Returns whether it rebuilt one.
 */
function useIncrementalVacuum(sqlite: Database.Database): boolean {
  if (sqlite.pragma("auto_vacuum", { simple: true }) === 2) return false;
  const tables = (sqlite.prepare("select count(*) as n from sqlite_master").get() as { n: number }).n;
  sqlite.pragma("auto_vacuum = INCREMENTAL");
  if (tables === 0) return false;
  sqlite.exec("VACUUM");
  return true;
}
