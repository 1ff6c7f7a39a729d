import Database from "better-sqlite3";
import pg from "pg";
import type { TestServer } from "./harness.js";

/**
 * Runs SQL straight on a test server's database, SQLite file or PostgreSQL (`$1, $2…` parameters on
 * both): what an operator with the database sees, or a write the app would never make (a row as an
 * older version left it). Rows come back as the driver reads them.
 */
export async function rawSql<R = Record<string, unknown>>(s: TestServer, sql: string, params: unknown[] = []): Promise<R[]> {
  const where = s.app.config.database;
  if (where.kind === "sqlite") {
    const db = new Database(s.dbFile);
    try {
      // `$n` may repeat: SQLite gets one `?` and one value per occurrence.
      const values: unknown[] = [];
      const stmt = db.prepare(sql.replace(/\$(\d+)/g, (_m, n: string) => (values.push(params[Number(n) - 1]), "?")));
      return (stmt.reader ? stmt.all(...values) : (stmt.run(...values), [])) as R[];
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: where.url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as R[];
  } finally {
    await c.end();
  }
}

/** Every value of every table (all columns, all rows) as one text, to search for what must not be there. */
export async function dumpAll(s: TestServer): Promise<string> {
  const sqlite = s.app.config.database.kind === "sqlite";
  const tables = await rawSql<{ t: string }>(
    s,
    sqlite ? "select name as t from sqlite_master where type = 'table'" : "select table_schema || '.' || table_name as t from information_schema.tables where table_schema in ('public', 'drizzle')",
  );
  if (tables.length < 20) throw new Error(`only ${tables.length} tables found`);
  const parts: string[] = [];
  for (const { t } of tables) parts.push(JSON.stringify(await rawSql(s, `select * from ${sqlite ? `"${t}"` : t}`)));
  return parts.join("\n");
}
