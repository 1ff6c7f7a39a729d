import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anonymizedNumber } from "../src/privacy/privacy.js";
import { numberKeyer } from "../src/risk/number-key.js";
import { backendStatus, createFreshPgDatabase, randomRedisPrefix, type FreshPgDatabase } from "./helpers/backends.js";
import { dumpAll, rawSql } from "./helpers/raw-sql.js";
import { ADMIN_KEY, CHECK, START, createClientKey, createService, errorOf, latestCode, ok, shadowRisk, startServer, type TestServer } from "./helpers/harness.js";

/**
 * Data-subject requests: `exportNumber` returns everything held about a number, and `eraseNumber`
 * leaves no row anywhere holding it (in clear, as digits, or as its keyed token), checked by reading
 * every column of every table of the database (and every Redis key, when limits live there), on
 * SQLite, PostgreSQL and PostgreSQL + Redis. The other numbers' data stays, and so do the statistics.
 */

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const token = numberKeyer(SECRET);

const EXPORT = `query($to: String!) { exportNumber(to: $to) }`;
const ERASE = `mutation($to: String!) { eraseNumber(to: $to) { id at actorKeyId requestId tables { table deleted anonymized } } }`;
const ERASURES = `query { erasures { id actorKeyId tables { table deleted anonymized } } }`;
const SAFE = `mutation($n: String!) { addSafeNumber(number: $n, note: "VIP") { number } }`;
const WEBHOOK = `mutation($s: ID!) { setServiceWebhook(serviceId: $s, url: "http://127.0.0.1:9/hook", events: [VERIFICATION_STARTED, VERIFICATION_APPROVED]) { serviceId } }`;
const STATS = `query($from: DateTimeISO!, $until: DateTimeISO!) { fraudStats(from: $from, until: $until, groupBy: [COUNTRY]) { totals { attempts allowed blocked sends checks converted approvals } rows { country attempts sends } } }`;
const CONSENT = { textVersion: "signup-2026-01", userAgent: "Mozilla/5.0 Erasure/1.0" };

interface Backend {
  name: string;
  skip: string | null;
  open(): Promise<{ env: Record<string, string>; redisKeys: (() => Promise<string[]>) | null; close(): Promise<void> }>;
}

const status = backendStatus();

const backends: Backend[] = [
  {
    name: "SQLite",
    skip: null,
    async open() {
      return {
        env: {},
        redisKeys: null,
        close: async () => undefined,
      };
    },
  },
  ...[false, true].map(
    (withRedis): Backend => ({
      name: withRedis ? "PostgreSQL + Redis" : "PostgreSQL",
      skip: status.pg.reason ?? (withRedis ? status.redis.reason : null),
      async open() {
        const db: FreshPgDatabase = await createFreshPgDatabase();
        const prefix = randomRedisPrefix();
        const redis = withRedis ? new Redis(status.redis.url) : null;
        return {
          env: { DATABASE_URL: db.url, ...(withRedis ? { REDIS_URL: status.redis.url, REDIS_KEY_PREFIX: prefix } : {}) },
          redisKeys: redis
            ? async () => {
                const keys: string[] = [];
                let cursor = "0";
                do {
                  const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
                  keys.push(...found);
                  cursor = next;
                } while (cursor !== "0");
                return keys;
              }
            : null,
          async close() {
            await redis?.quit();
            await db.drop();
          },
        };
      },
    }),
  ),
];

describe.each(backends)("erasure and export of a number on $name", (b) => {
  const run = b.skip === null;
  let s: TestServer;
  let backend: Awaited<ReturnType<Backend["open"]>>;
  let serviceA: string;
  let serviceB: string;
  let clientA: string;
  /** The data subject, and a bystander whose data must stay. */
  const X = "+447400123456";
  const Y = "+447400654321";
  const needles = (n: string) => [n, n.slice(1), token(n), anonymizedNumber(token(n))];
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const until = new Date(Date.now() + 3_600_000).toISOString();

  beforeAll(async () => {
    if (!run) return;
    backend = await b.open();
    s = await startServer({ env: { TRUST_PROXY: "127.0.0.1/32", ...backend.env } });
    serviceA = await createService(s);
    serviceB = await createService(s);
    await shadowRisk(s, serviceA);
    await shadowRisk(s, serviceB);
    clientA = (await createClientKey(s, serviceA)).secret;
    ok(await s.gql(WEBHOOK, { s: serviceA }));
    for (const to of [X, Y]) {
      // Service A: with consent, one wrong code (counted against the number), then the right one.
      ok(await s.gql(START, { input: { serviceId: serviceA, to, channel: "SMS", consent: { ...CONSENT, agreedAt: new Date().toISOString() } } }, clientA, { "x-forwarded-for": "203.0.113.9" }));
      const code = await latestCode(s, to);
      const wrong = await s.gql(CHECK, { input: { serviceId: serviceA, to, code: code === "000000" ? "000001" : "000000" } }, clientA, { "x-forwarded-for": "203.0.113.9" });
      expect(wrong.errors ?? []).toEqual([]);
      ok(await s.gql(CHECK, { input: { serviceId: serviceA, to, code } }, clientA, { "x-forwarded-for": "203.0.113.9" }));
      // Service B: left pending.
      ok(await s.gql(START, { input: { serviceId: serviceB, to, channel: "SMS" } }));
    }
    ok(await s.gql(SAFE, { n: X }));
    await s.app.dispatcher.idle();
  });
  afterAll(async () => {
    await s?.close();
    await backend?.close();
  });

  it.skipIf(!run)("exports everything held about the number as JSON, and nothing about another", async () => {
    const doc = ok(await s.gql<{ exportNumber: Record<string, unknown[]> & { number: string } }>(EXPORT, { to: X })).exportNumber;
    expect(doc.number).toBe(X);
    expect(doc.verifications).toHaveLength(2);
    const a = doc.verifications.find((v) => (v as { serviceId: string }).serviceId === serviceA) as Record<string, unknown> & { sendAttempts: unknown[]; deliveryJobs: unknown[]; webhookDeliveries: unknown[] };
    expect(a).toMatchObject({ to: X, status: "APPROVED", createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(a.sendAttempts).toHaveLength(1);
    expect(a.deliveryJobs).toHaveLength(1);
    expect(a.webhookDeliveries.length).toBeGreaterThan(0);
    // Secrets of the service are not data about the person.
    expect(JSON.stringify(doc)).not.toMatch(/codeHash|codeSeed|sealedCode/);
    expect(doc.riskDecisions).toHaveLength(4); // 2 starts, a wrong check and a right one
    expect(doc.consentRecords).toEqual([expect.objectContaining({ to: X, textVersion: "signup-2026-01", ip: "203.0.113.9" })]);
    expect(doc.safeList).toEqual([expect.objectContaining({ number: X, note: "VIP" })]);
    expect(doc.counters.length).toBeGreaterThan(0);
    expect(JSON.stringify(doc)).not.toContain(Y);
    expect(JSON.stringify(doc)).not.toContain(token(Y));
  });

  it.skipIf(!run)("erases it everywhere: no column of any table holds it, in clear, as digits or as its token; the audit says who and how much, without it", async () => {
    // A row the retention anonymized earlier holds the token instead: erasure finds it too.
    const anonymized = anonymizedNumber(token(X));
    const pendingB = ok(await s.gql<{ exportNumber: { verifications: { id: string; serviceId: string }[] } }>(EXPORT, { to: X })).exportNumber.verifications.find((v) => v.serviceId === serviceB)!;
    await s.app.services.store.setFinalStatus(pendingB.id, "CANCELED", Date.now());
    const before = ok(await s.gql<{ fraudStats: unknown }>(STATS, { from, until })).fraudStats;
    let dump = await dumpAll(s);
    const redisBefore = (await backend.redisKeys?.()) ?? [];
    for (const n of [X, Y]) {
      for (const x of needles(n).slice(0, 2)) expect(dump.includes(x), `the data holds ${x}`).toBe(true);
      // The token is in counter keys: the database's, or Redis's.
      expect(dump.includes(token(n)) || redisBefore.some((k) => k.includes(token(n)))).toBe(true);
    }
    await rawSql(s, "update verifications set to_number = $1 where id = $2", [anonymized, pendingB.id]);
    expect((await dumpAll(s)).includes(anonymized)).toBe(true);

    const r = ok(await s.gql<{ eraseNumber: { id: string; actorKeyId: string; requestId: string | null; tables: { table: string; deleted: number; anonymized: number }[] } }>(ERASE, { to: X }, ADMIN_KEY, { "x-request-id": "erase-req-1" })).eraseNumber;
    expect(r.id).toMatch(/^ER[0-9a-f]{32}$/);
    expect(r.requestId).toBe("erase-req-1");
    const t = Object.fromEntries(r.tables.map((x) => [x.table, x]));
    expect(t.verifications).toEqual({ table: "verifications", deleted: 2, anonymized: 0 });
    expect(t.send_attempts!.deleted).toBe(2);
    expect(t.delivery_jobs!.deleted).toBe(2);
    expect(t.webhook_deliveries!.deleted).toBeGreaterThan(0);
    expect(t.risk_decisions).toEqual({ table: "risk_decisions", deleted: 0, anonymized: 4 });
    expect(t.consent_records!.deleted).toBe(1);
    expect(t.safe_numbers!.deleted).toBe(1);
    const counters = (t.rate_limits?.deleted ?? 0) + (t.risk_counters?.deleted ?? 0) + (t.redis?.deleted ?? 0);
    expect(counters).toBeGreaterThan(0);

    dump = await dumpAll(s);
    for (const n of needles(X)) expect(dump.includes(n), `a row still holds ${n}`).toBe(false);
    // The bystander's data is all there.
    for (const n of needles(Y).slice(0, 2)) expect(dump.includes(n), `the data holds ${n}`).toBe(true);
    if (backend.redisKeys) {
      const keys = await backend.redisKeys();
      expect(keys.some((k) => k.includes(token(Y)))).toBe(true);
      expect(keys.filter((k) => k.includes(token(X)))).toEqual([]);
    }
    expect(s.app.services.outbox!.list(X)).toEqual([]);
    expect(s.app.services.outbox!.list(Y).length).toBeGreaterThan(0);

    // Decisions stay, without the number: the statistics are unchanged.
    expect(ok(await s.gql<{ fraudStats: unknown }>(STATS, { from, until })).fraudStats).toEqual(before);
    // Nothing is left to export; the audit lists the erasure.
    const after = ok(await s.gql<{ exportNumber: Record<string, unknown[]> }>(EXPORT, { to: X })).exportNumber;
    for (const k of ["verifications", "riskDecisions", "consentRecords", "safeList", "counters"]) expect(after[k], k).toEqual([]);
    const audit = ok(await s.gql<{ erasures: { id: string; actorKeyId: string }[] }>(ERASURES)).erasures;
    expect(audit[0]).toMatchObject({ id: r.id, actorKeyId: r.actorKeyId });
    expect(r.actorKeyId).toMatch(/^VK/);
  });

  it.skipIf(!run)("is admin-only, and refuses what is not a number with a coded error", async () => {
    expect(errorOf(await s.gql(ERASE, { to: Y }, clientA))).toMatchObject({ code: "FORBIDDEN" });
    // A client key is refused before anything runs (the query costs more than a client may spend, or it is not an admin).
    expect(["FORBIDDEN", "QUERY_TOO_COMPLEX"]).toContain(errorOf(await s.gql(EXPORT, { to: Y }, clientA)).code);
    expect(errorOf(await s.gql(ERASE, { to: "12" }))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, detail: { field: "to" } });
    // A second erasure finds nothing, and is audited as well.
    const again = ok(await s.gql<{ eraseNumber: { tables: { deleted: number; anonymized: number }[] } }>(ERASE, { to: X })).eraseNumber;
    expect(again.tables.every((x) => x.deleted === 0 && x.anonymized === 0)).toBe(true);
  });
});
