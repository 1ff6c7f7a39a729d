import { getTableConfig as pgTableConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as pgSchema from "../src/store/pg/schema.js";
import * as sqliteSchema from "../src/store/sqlite/schema.js";

/** Columns PostgreSQL has for its own reasons (they never reach the Store's row types). */
const PG_ONLY_COLUMNS: Record<string, string[]> = {
  verifications: ["seq"], // insertion order, SQLite's implicit rowid
  send_attempts: ["seq"],
};

type Shape = Record<string, { columns: Record<string, { notNull: boolean; primary: boolean }>; primaryKeys: string[][]; uniques: string[][] }>;

function shapeOf(tables: { name: string; columns: { name: string; notNull: boolean; primary: boolean }[]; primaryKeys: string[][]; uniques: string[][] }[]): Shape {
  return Object.fromEntries(
    tables.map((t) => [
      t.name,
      {
        columns: Object.fromEntries(t.columns.filter((c) => !PG_ONLY_COLUMNS[t.name]?.includes(c.name)).map((c) => [c.name, { notNull: c.notNull, primary: c.primary }])),
        primaryKeys: t.primaryKeys,
        uniques: t.uniques.sort(),
      },
    ]),
  );
}

const sqlite = shapeOf(
  (Object.values(sqliteSchema) as unknown[])
    .filter((v): v is SQLiteTable => v instanceof SQLiteTable)
    .map((t) => {
      const c = sqliteTableConfig(t);
      return {
        name: c.name,
        columns: c.columns,
        primaryKeys: c.primaryKeys.map((pk) => pk.columns.map((x) => x.name)),
        uniques: c.indexes.filter((i) => i.config.unique).map((i) => i.config.columns.map((x) => ("name" in x ? String(x.name) : "?"))),
      };
    }),
);
const pg = shapeOf(
  (Object.values(pgSchema) as unknown[])
    .filter((v): v is PgTable => v instanceof PgTable)
    .map((t) => {
      const c = pgTableConfig(t);
      return {
        name: c.name,
        columns: c.columns,
        primaryKeys: c.primaryKeys.map((pk) => pk.columns.map((x) => x.name)),
        uniques: c.indexes.filter((i) => i.config.unique).map((i) => i.config.columns.map((x) => ("name" in x ? String(x.name) : "?"))),
      };
    }),
);

/**
 * drizzle has no dialect-neutral schema, so `src/store/pg/schema.ts` mirrors `src/store/sqlite/schema.ts`
 * by hand. This fails when one gains a table, a column, a NOT NULL, a key or a unique index the other
 * lacks: add it to both (and generate both migrations), so a server on PostgreSQL keeps every feature.
 */
describe("PostgreSQL schema mirrors the SQLite schema", () => {
  it("has the same tables", () => {
    expect(Object.keys(pg).sort()).toEqual(Object.keys(sqlite).sort());
  });

  it.each(Object.keys(sqlite).sort())("has the same columns, nullability and keys in %s", (table) => {
    expect(pg[table]).toEqual(sqlite[table]);
  });
});
