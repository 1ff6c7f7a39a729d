import "reflect-metadata";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { backendStatus, createFreshPgDatabase, type FreshPgDatabase } from "./helpers/backends.js";
import { START, createService, errorOf, freshMobile, startServer, type TestServer } from "./helpers/harness.js";

const { pg: pgStatus } = backendStatus();

/**
 * drizzle's query errors carry the SQL and its parameters (phone numbers among them) in their message,
 * and unknown errors are logged with their stack. On PostgreSQL the store strips them (store/pg/errors.ts):
 * the caller sees INTERNAL, the log sees the driver's message and SQLSTATE, and nobody sees a number.
 */
describe.skipIf(pgStatus.reason !== null)(pgStatus.reason ? `PostgreSQL error hygiene not run: ${pgStatus.reason}` : "database errors on PostgreSQL", () => {
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
