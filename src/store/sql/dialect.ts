/**
 * Where SQLite and PostgreSQL differ, and nothing else: every query is written once (store/queries/*)
 * and asks its dialect for the few pieces that are spelled differently. A difference that is not here
 * does not exist.
 */
export interface Dialect {
  readonly name: "sqlite" | "postgres";
  /** The i-th (1-based) positional parameter: `?` or `$i`. */
  placeholder(i: number): string;
  /** Rows in insertion order: SQLite's implicit rowid, a PostgreSQL identity column (schema `rowOrder`). */
  readonly insertionOrder: string;
  /**
   * Appended to a claim's candidate SELECT: concurrent claimers on other instances skip rows another
   * one has locked instead of queueing on them (SQLite has one writer at a time and needs nothing).
   */
  readonly skipLocked: string;
  /** A parameter used where PostgreSQL cannot infer its type (arithmetic, CASE, bare SELECT list). */
  int(param: string): string;
  /** A text parameter in the same position (see {@link int}). */
  text(param: string): string;
  /** Byte-order comparison: a PostgreSQL database may sort text by a natural-language collation. */
  bytewise(expr: string): string;
  /** Whether text `expr` contains the text parameter `param` anywhere (no pattern characters, unlike LIKE). */
  contains(expr: string, param: string): string;
  /** The members of a list parameter (bind an array) as a subquery, for `x in (…)`. */
  inList(param: string, type: "text" | "int"): string;
  /**
   * Rows from parallel list parameters, as a derived table with the given columns:
   * `select … from ${d.rows([["key", "text"], ["n", "int"]])} as t`. Bind one array per column.
   */
  rows(columns: [name: string, type: "text" | "int"][]): string;
  /** A query answering the database's size on disk as `bytes`, and the part free for reuse as `free`. */
  readonly databaseSize: string;
  /** A bound boolean (SQLite has none: 0/1). */
  bool(v: boolean): number | boolean;
  /** A boolean read back. */
  readBool(v: unknown): boolean;
  /** A JSON column read back (SQLite stores text; PostgreSQL's jsonb arrives parsed). */
  readJson<T>(v: unknown): T;
  /** Bound list parameters: SQLite reads them with json_each, PostgreSQL takes arrays. */
  list(values: readonly unknown[]): unknown;
}

export const sqliteDialect: Dialect = {
  name: "sqlite",
  placeholder: () => "?",
  insertionOrder: "rowid",
  skipLocked: "",
  int: (p) => p,
  text: (p) => p,
  bytewise: (e) => e,
  contains: (e, p) => `instr(${e}, ${p}) > 0`,
  inList: (p) => `(select value from json_each(${p}))`,
  // One json_each over the first list; the others are read by position (no join of table functions,
  // which SQLite would run as nested scans).
  rows: (cols) => {
    const [first, ...rest] = cols.map(([name]) => name);
    const others = rest.map((name) => `, json_extract(:${name}, '$[' || j.key || ']') as ${name}`).join("");
    return `(select j.value as ${first}${others} from json_each(:${first}) j)`;
  },
  databaseSize: "select c.page_count * s.page_size as bytes, f.freelist_count * s.page_size as free from pragma_page_count() c, pragma_page_size() s, pragma_freelist_count() f",
  bool: (v) => (v ? 1 : 0),
  readBool: (v) => v === 1 || v === true,
  readJson: <T>(v: unknown) => JSON.parse(String(v)) as T,
  list: (values) => JSON.stringify(values),
};

const PG_TYPES = { text: "text", int: "bigint" } as const;

export const pgDialect: Dialect = {
  name: "postgres",
  placeholder: (i) => `$${i}`,
  insertionOrder: "seq",
  skipLocked: "for update skip locked",
  int: (p) => `${p}::bigint`,
  text: (p) => `${p}::text`,
  bytewise: (e) => `${e} collate "C"`,
  contains: (e, p) => `strpos(${e}, ${p}::text) > 0`,
  inList: (p, type) => `(select unnest(${p}::${PG_TYPES[type]}[]))`,
  rows: (cols) => `(select * from unnest(${cols.map(([n, t]) => `:${n}::${PG_TYPES[t]}[]`).join(", ")}) as r(${cols.map(([n]) => n).join(", ")}))`,
  // Dead rows are autovacuum's to reuse; there is no freelist to report.
  databaseSize: "select pg_database_size(current_database()) as bytes, 0 as free",
  bool: (v) => v,
  readBool: (v) => v === true,
  readJson: <T>(v: unknown) => v as T,
  list: (values) => values,
};
