/**
 * A dialect-neutral table definition, written once (tables.ts) and turned into drizzle's SQLite and
 * PostgreSQL tables (sqlite.ts, pg.ts) for drizzle-kit and the migrators, and into the select lists
 * and row mappers of the query modules (store/queries/*). drizzle has no neutral schema of its own;
 * this is the smallest one that covers what the store uses, so a column is added in one place.
 *
 * Column kinds and what each dialect makes of them:
 *   text      text                      text
 *   int       integer                   integer
 *   int64     integer                   bigint (read as a JS number)
 *   real      real                      double precision
 *   bool      integer 0/1               boolean
 *   json      text                      jsonb
 *   rowOrder  (the implicit rowid)      bigint identity: insertion order, never part of a row type
 */

export type ColumnKind = "text" | "int" | "int64" | "real" | "bool" | "json" | "rowOrder";

export interface ColumnDef {
  kind: ColumnKind;
  /** The SQL name (snake_case). */
  name: string;
  notNull: boolean;
  primaryKey: boolean;
  default?: unknown;
  enum?: readonly [string, ...string[]];
  references?: { table: () => TableDef; column: string; onDelete?: "cascade" };
}

/** A column under construction (chainable, like drizzle's builders). */
export class Col<K extends ColumnKind = ColumnKind> {
  readonly def: ColumnDef;
  constructor(kind: K, name: string, enumValues?: readonly [string, ...string[]]) {
    this.def = { kind, name, notNull: false, primaryKey: false, enum: enumValues };
  }
  notNull(): this {
    this.def.notNull = true;
    return this;
  }
  primaryKey(): this {
    this.def.primaryKey = true;
    return this;
  }
  default(value: unknown): this {
    this.def.default = value;
    return this;
  }
  references(table: () => TableDef, column: string, opts: { onDelete?: "cascade" } = {}): this {
    this.def.references = { table, column, onDelete: opts.onDelete };
    return this;
  }
}

export const text = (name: string, enumValues?: readonly [string, ...string[]]) => new Col("text", name, enumValues);
export const int = (name: string) => new Col("int", name);
/** 64-bit integers: epoch milliseconds, micro-dollars. */
export const int64 = (name: string) => new Col("int64", name);
/** Floating point (rates, ratios): never money, which is integer micro-dollars. */
export const real = (name: string) => new Col("real", name);
export const bool = (name: string) => new Col("bool", name);
export const json = (name: string) => new Col("json", name);
/** Insertion order: SQLite's implicit rowid, a PostgreSQL identity column named `name`. */
export const rowOrder = (name: string) => new Col("rowOrder", name);

export interface IndexDef {
  name: string;
  /** Column keys (not SQL names). */
  columns: string[];
  unique: boolean;
  /** A partial index's condition, in SQL both dialects read alike. */
  where?: string;
  /** An index one dialect needs and the other does not (each says why where it is declared). */
  only?: "sqlite" | "postgres";
}

export interface TableDef<C extends Record<string, Col> = Record<string, Col>> {
  name: string;
  columns: { [K in keyof C]: ColumnDef };
  indexes: IndexDef[];
  primaryKey?: { name?: string; columns: string[] };
}

interface Extras<K extends string> {
  index(name: string, columns: K[], opts?: { where?: string; only?: "sqlite" | "postgres" }): void;
  uniqueIndex(name: string, columns: K[], opts?: { where?: string }): void;
  primaryKey(columns: K[], name?: string): void;
}

/** Declares a table: its columns, then (optionally) its indexes and composite primary key. */
export function table<C extends Record<string, Col>>(name: string, columns: C, extras?: (t: Extras<Extract<keyof C, string>>) => void): TableDef<C> {
  const def: TableDef<C> = {
    name,
    columns: Object.fromEntries(Object.entries(columns).map(([k, c]) => [k, c.def])) as { [K in keyof C]: ColumnDef },
    indexes: [],
  };
  extras?.({
    index: (n, cols, opts = {}) => def.indexes.push({ name: n, columns: cols, unique: false, ...opts }),
    uniqueIndex: (n, cols, opts = {}) => def.indexes.push({ name: n, columns: cols, unique: true, ...opts }),
    primaryKey: (cols, n) => (def.primaryKey = { name: n, columns: cols }),
  });
  return def;
}

/** The columns a row type carries (every column but the insertion-order one). */
export function rowColumns(t: TableDef): [string, ColumnDef][] {
  return Object.entries(t.columns).filter(([, c]) => c.kind !== "rowOrder");
}

/**
 * The select list of a table's row: `id, service_id as "serviceId", …`, so rows come back keyed as
 * the row types are (quoted aliases read the same in SQLite and PostgreSQL). `alias` qualifies columns.
 */
export function selectList(t: TableDef, alias?: string): string {
  const q = alias ? `${alias}.` : "";
  return rowColumns(t)
    .map(([key, c]) => (key === c.name ? `${q}${c.name}` : `${q}${c.name} as "${key}"`))
    .join(", ");
}

/** `(col, …) values (:key, …)` of an insert binding every row column to the parameter of its key. */
export function insertValues(t: TableDef): string {
  const cols = rowColumns(t);
  return `(${cols.map(([, c]) => c.name).join(", ")}) values (${cols.map(([k]) => `:${k}`).join(", ")})`;
}

/**
 * How a row of `t` read from either database becomes its row type: booleans (SQLite's 0/1) and JSON
 * (SQLite's text) converted through the dialect; undefined when the table has neither.
 */
export function rowMapper<R>(t: TableDef): ((row: Record<string, unknown>, d: { readBool(v: unknown): boolean; readJson<T>(v: unknown): T }) => R) | undefined {
  const bools = rowColumns(t).filter(([, c]) => c.kind === "bool").map(([k]) => k);
  const jsons = rowColumns(t).filter(([, c]) => c.kind === "json").map(([k]) => k);
  if (bools.length === 0 && jsons.length === 0) return undefined;
  return (row, d) => {
    for (const k of bools) if (row[k] !== null && row[k] !== undefined) row[k] = d.readBool(row[k]);
    for (const k of jsons) if (row[k] !== null && row[k] !== undefined) row[k] = d.readJson(row[k]);
    return row as R;
  };
}
