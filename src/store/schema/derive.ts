import { sql } from "drizzle-orm";
import type { ColumnDef, TableDef } from "./define.js";
import * as tables from "./tables.js";

/** The builder methods used here, typed loosely: drizzle's builders differ only in their value types. */
export interface ColumnBuilder {
  primaryKey(): ColumnBuilder;
  notNull(): ColumnBuilder;
  default(value: unknown): ColumnBuilder;
  references(ref: () => unknown, actions: { onDelete?: "cascade" }): ColumnBuilder;
}

interface IndexBuilder {
  on(...columns: unknown[]): IndexBuilder & { where(condition: unknown): unknown };
}

/** What one dialect's drizzle core offers, and how it spells each column kind. */
export interface DrizzleDialect {
  name: "sqlite" | "postgres";
  table(name: string, columns: Record<string, unknown>, extras: (t: Record<string, unknown>) => unknown[]): unknown;
  /** The builder of a column of this kind, or null when the dialect has none (SQLite's rowid). */
  column(c: ColumnDef): ColumnBuilder | null;
  index(name: string): IndexBuilder;
  uniqueIndex(name: string): IndexBuilder;
  primaryKey(config: { name?: string; columns: unknown[] }): unknown;
  /** A column default as this dialect stores it (when it differs from the value). */
  defaultOf?(c: ColumnDef, value: unknown): unknown;
}

/**
 * drizzle's tables of one dialect, derived from the one schema (tables.ts), for drizzle-kit and the
 * migrators (queries do not use them: store/queries/*). Keyed like tables.ts.
 */
export function deriveTables(d: DrizzleDialect): Record<keyof typeof tables, unknown> {
  const built = new Map<string, Record<string, unknown>>();
  const derive = (def: TableDef) => {
    const cols: Record<string, unknown> = {};
    for (const [key, c] of Object.entries(def.columns)) {
      let b = d.column(c);
      if (!b) continue;
      if (c.primaryKey) b = b.primaryKey();
      if (c.notNull) b = b.notNull();
      if (c.default !== undefined) b = b.default(d.defaultOf ? d.defaultOf(c, c.default) : c.default);
      const ref = c.references;
      if (ref) b = b.references(() => built.get(ref.table().name)![ref.column], { onDelete: ref.onDelete });
      cols[key] = b;
    }
    const table = d.table(def.name, cols, (t) => {
      const extras: unknown[] = def.indexes
        .filter((i) => !i.only || i.only === d.name)
        .map((i) => {
          const ix = (i.unique ? d.uniqueIndex(i.name) : d.index(i.name)).on(...i.columns.map((k) => t[k]));
          return i.where ? ix.where(sql.raw(i.where)) : ix;
        });
      if (def.primaryKey) extras.unshift(d.primaryKey({ name: def.primaryKey.name, columns: def.primaryKey.columns.map((k) => t[k]) }));
      return extras;
    });
    built.set(def.name, table as Record<string, unknown>);
    return table;
  };
  return Object.fromEntries(Object.entries(tables).map(([key, def]) => [key, derive(def as TableDef)])) as Record<keyof typeof tables, unknown>;
}
