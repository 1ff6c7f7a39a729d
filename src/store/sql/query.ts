import type { Dialect } from "./dialect.js";

/**
 * The query layer: SQL written once, as text with `:name` parameters, compiled per dialect the first
 * time it runs and prepared once per connection (a better-sqlite3 Statement; a named PostgreSQL
 * prepared statement). Why a thin layer of our own rather than drizzle's builder or Kysely: both build
 * the SQL text anew on every call, which cost more than SQLite took to run the statement, and neither
 * can run one transaction body synchronously on better-sqlite3 and asynchronously on node-postgres
 * (see {@link Db.transaction}); the measurements are in docs/benchmarks.md. drizzle stays the schema
 * and migration tool (store/schema/).
 */

/** A query: its SQL for a dialect, and how a result row becomes the caller's type. */
export interface Query<P extends object = Record<string, unknown>, R = unknown> {
  readonly sql: (d: Dialect) => string;
  /** Maps a result row (columns already aliased to the row type's keys). */
  readonly map?: (row: Record<string, unknown>, d: Dialect) => R;
  /**
   * Prepared once per connection and kept (every hot query). False for SQL built per call (statistics,
   * filtered log pages): those run unnamed on PostgreSQL and from a small text-keyed cache on SQLite.
   */
  readonly prepared: boolean;
  /** A stable name for PostgreSQL's prepared statement (unique per query). */
  readonly name: string;
  /** Phantom: the parameter type (never set). */
  readonly _params?: P;
}

let nextId = 0;

/** Defines a prepared query. `sql` may depend on the dialect; parameters are `:name`. */
export function query<P extends object = Record<string, never>, R = Record<string, unknown>>(
  sql: string | ((d: Dialect) => string),
  opts: { map?: (row: Record<string, unknown>, d: Dialect) => R; prepared?: boolean } = {},
): Query<P, R> {
  return { sql: typeof sql === "string" ? () => sql : sql, map: opts.map, prepared: opts.prepared ?? true, name: `vg_q${++nextId}` };
}

/** A query built for one call (its text varies with the call): never kept as a prepared statement. */
export function adhoc<P extends object = Record<string, unknown>, R = Record<string, unknown>>(sql: string, map?: (row: Record<string, unknown>, d: Dialect) => R): Query<P, R> {
  return { sql: () => sql, map, prepared: false, name: "" };
}

/** A query compiled for one dialect: positional text and the parameter name of each position. */
export interface Compiled {
  text: string;
  names: string[];
}

/** `:name` not preceded by `:` or a word character (so PostgreSQL's `::type` casts stay as they are). */
const PARAM = /(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g;

/** Turns `:name` parameters into the dialect's positional ones (a repeated name reuses its `$n`). */
export function compile(sql: string, d: Dialect): Compiled {
  const names: string[] = [];
  const text = sql.replace(PARAM, (_m, name: string) => {
    if (d.name === "sqlite") {
      names.push(name);
      return d.placeholder(names.length);
    }
    const at = names.indexOf(name);
    if (at >= 0) return d.placeholder(at + 1);
    names.push(name);
    return d.placeholder(names.length);
  });
  return { text, names };
}

/** The positional values of a call, converted for the dialect (booleans, lists); a missing one throws. */
export function bind(c: Compiled, params: object, d: Dialect): unknown[] {
  const p = params as Record<string, unknown>;
  return c.names.map((name) => {
    const v = p[name];
    if (v === undefined) throw new Error(`query parameter :${name} is missing`);
    if (typeof v === "boolean") return d.bool(v);
    if (Array.isArray(v)) return d.list(v);
    return v;
  });
}

/** One statement of a transaction body (see {@link Db.transaction}). */
export type Step = { op: "get" | "all" | "run"; q: Query<object, unknown>; params: object };

/** A transaction body: yields its statements, returns its result. */
export type TxBody<T> = Generator<Step, T, unknown>;

/** In a transaction body: `const row = yield* get(q, params)`. */
export function* get<P extends object, R>(q: Query<P, R>, params: P): Generator<Step, R | undefined, unknown> {
  return (yield { op: "get", q, params }) as R | undefined;
}

/** In a transaction body: `const rows = yield* all(q, params)`. */
export function* all<P extends object, R>(q: Query<P, R>, params: P): Generator<Step, R[], unknown> {
  return (yield { op: "all", q, params }) as R[];
}

/** In a transaction body: `const changed = yield* run(q, params)` (rows changed). */
export function* run<P extends object>(q: Query<P, unknown>, params: P): Generator<Step, number, unknown> {
  return (yield { op: "run", q, params }) as number;
}

/**
 * The database port every query module is written against; store/sql/sqlite.ts and store/sql/pg.ts
 * implement it. Single statements are promises on both (SQLite's resolve at once).
 */
export interface Db {
  readonly dialect: Dialect;
  get<P extends object, R>(q: Query<P, R>, params: P): Promise<R | undefined>;
  all<P extends object, R>(q: Query<P, R>, params: P): Promise<R[]>;
  /** Runs a write; resolves to the number of rows it changed. */
  run<P extends object>(q: Query<P, unknown>, params: P): Promise<number>;
  /**
   * Runs `body` as one write transaction. The body is written once, as a generator that yields its
   * statements (`yield* get(…)`): SQLite drives it synchronously inside BEGIN IMMEDIATE … COMMIT, so
   * no other request of this process can interleave (better-sqlite3 must never await inside a
   * transaction), and other processes wait on SQLite's writer lock; PostgreSQL drives it on one pooled
   * connection, awaiting each statement. A throw rolls everything back. On PostgreSQL a transaction
   * that lost a race to another instance (unique violation, deadlock, serialization failure) is run
   * again from the start, so bodies must be safe to re-run (they only touch the database).
   */
  transaction<T>(body: () => TxBody<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Drives a transaction body with a synchronous executor (SQLite). */
export function driveSync<T>(body: TxBody<T>, exec: (s: Step) => unknown): T {
  let r = body.next();
  while (!r.done) r = body.next(exec(r.value));
  return r.value;
}

/** Drives a transaction body with an asynchronous executor (PostgreSQL). */
export async function driveAsync<T>(body: TxBody<T>, exec: (s: Step) => Promise<unknown>): Promise<T> {
  let r = body.next();
  while (!r.done) r = body.next(await exec(r.value));
  return r.value;
}

/** Applies a query's row mapper. */
export function mapRow<R>(q: Query<object, R>, row: Record<string, unknown> | undefined, d: Dialect): R | undefined {
  if (row === undefined) return undefined;
  return q.map ? q.map(row, d) : (row as R);
}
