import "reflect-metadata";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { backendStatus, createFreshPgDatabase, type FreshPgDatabase } from "./helpers/backends.js";
import { ADMIN_KEY, START, createClientKey, createService, errorOf, freshMobile, latestCode, ok, startServer, type TestServer } from "./helpers/harness.js";

const { pg: pgStatus } = backendStatus();

/**
 * The security properties the SQLite suites check on the file itself, checked on PostgreSQL: no code
 * or key in clear in any row, and database errors that reveal nothing (drizzle's query errors carry
 * the SQL and its parameters, phone numbers among them, in their message; store/sql/pg.ts strips
 * them, so the caller sees INTERNAL and the log the driver's message and SQLSTATE, never a number).
 */
describe.skipIf(pgStatus.reason !== null)(pgStatus.reason ? `PostgreSQL security not run: ${pgStatus.reason}` : "security on PostgreSQL", () => {
  let db: FreshPgDatabase;
  let s: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    db = await createFreshPgDatabase();
    s = await startServer({ env: { DATABASE_URL: db.url }, log: createLogger("debug", (l) => lines.push(l)) });
  });
  afterAll(async () => {
    await s?.close();
    await db?.drop();
  });

  it("never holds a code or an API key in clear in any row of any table", async () => {
    const serviceId = await createService(s);
    const to = freshMobile();
    ok(await s.gql(START, { input: { serviceId, to, channel: "SMS" } }));
    const code = await latestCode(s, to);
    const client = await createClientKey(s, serviceId);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rows: tables } = await admin.query<{ t: string }>("select table_schema || '.' || table_name as t from information_schema.tables where table_schema in ('public', 'drizzle')");
      expect(tables.length).toBeGreaterThan(10);
      let everything = "";
      for (const { t } of tables) everything += JSON.stringify((await admin.query(`select * from ${t}`)).rows);
      expect(everything).toContain(to); // the dump does hold the data…
      expect(everything).not.toContain(code); // …but never the code,
      expect(everything).not.toContain(ADMIN_KEY); // nor a key
      expect(everything).not.toContain(client.secret);
    } finally {
      await admin.end();
    }
  });

  it("answers INTERNAL and logs the failure without the query's parameters", async () => {
    const serviceId = await createService(s);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query("alter table risk_decisions rename to risk_decisions_gone");
    } finally {
      await admin.end();
    }
    const to = freshMobile();
    const r = await s.gql(START, { input: { serviceId, to, channel: "SMS" } });
    expect(errorOf(r)).toMatchObject({ code: "INTERNAL", errorCode: 20500 });
    expect(JSON.stringify(r)).not.toMatch(/risk_decisions|insert|select|relation/i);
    const log = lines.join("\n");
    expect(log).toContain('relation \\"risk_decisions\\" does not exist');
    expect(log).toContain("PgStoreError");
    expect(log).not.toContain(to.slice(1));
    expect(log).not.toMatch(/Failed query|params:/);
  });
});
