import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { anonymizedNumber } from "../src/privacy/privacy.js";
import { numberKeyer } from "../src/risk/number-key.js";
import { openDatabase, type Database } from "../src/store/open.js";
import { backendStatus, createFreshPgDatabase, type FreshPgDatabase } from "./helpers/backends.js";
import { ADMIN_KEY, CHECK, START, createService, errorOf, latestCode, ok, shadowRisk, startServer, type TestServer } from "./helpers/harness.js";
import { dumpAll, rawSql } from "./helpers/raw-sql.js";

/**
 * The retention, driven by an injected clock on SQLite and PostgreSQL: each kind of data is purged or
 * anonymized once past its horizon and not a moment before, a service's own horizons apply to it
 * alone, fraudStats over a range older than the raw retention answers the same from the roll-ups, and
 * only the holder of the lease purges.
 */

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const token = numberKeyer(SECRET);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 10, 12, 20);

const STATS = `query($from: DateTimeISO!, $until: DateTimeISO!, $groupBy: [StatsDimension!]!) {
  fraudStats(from: $from, until: $until, groupBy: $groupBy) { totals { attempts allowed blocked sends checks converted approvals preventedSends } rows { country prefix hour day attempts sends checks converted approvals } } }`;
const RETENTION = `mutation($s: ID!, $n: Int, $r: Int) { setServiceRetention(serviceId: $s, numbersDays: $n, rawDays: $r) { serviceId numbersDays rawDays own } }`;
const STATUS = `{ storeStatus { dialect bytes freeBytes purgingOn lastPurge { owner durationMs error tables { table deleted anonymized } } retention { numbersDays rawDays rollupsDays finishedJobsHours consentDays } } }`;
const WEBHOOK = `mutation($s: ID!) { setServiceWebhook(serviceId: $s, url: "http://127.0.0.1:9/hook", events: [VERIFICATION_STARTED]) { serviceId } }`;

const status = backendStatus();
const backends = [
  { name: "SQLite", skip: null as string | null, pg: false },
  { name: "PostgreSQL", skip: status.pg.reason, pg: true },
];

describe.each(backends)("retention on $name", (b) => {
  const run = b.skip === null;
  const clock = new ManualClock(T0);
  let s: TestServer;
  let pgDb: FreshPgDatabase | undefined;
  let serviceA: string; // the deployment's horizons: numbers 30 d, raw 90 d
  let serviceB: string; // its own: numbers 7 d, raw 14 d
  const a1 = "+447400100001";
  const a2 = "+447400100002";
  const b1 = "+447400200001";
  const statsRanges: [string, Date, Date, string[]][] = [];
  let statsBefore: unknown[] = [];

  const count = async (sql: string, params: unknown[] = []) => Number((await rawSql<{ n: number }>(s, `select count(*) as n from ${sql}`, params))[0]!.n);
  const purge = async () => {
    const r = await s.app.purger.runOnce();
    expect(r?.error ?? null).toBeNull();
    return r!;
  };
  const at = async (ms: number) => {
    clock.set(T0 + ms);
    return purge();
  };
  const stats = async () => Promise.all(statsRanges.map(async ([, from, until, groupBy]) => ok(await s.gql(STATS, { from, until, groupBy })).fraudStats));
  const verify = async (serviceId: string, to: string, consent = false) => {
    const h = { "x-forwarded-for": "203.0.113.7" };
    ok(await s.gql(START, { input: { serviceId, to, channel: "SMS", ...(consent ? { consent: { textVersion: "v1", agreedAt: new Date(clock.now()).toISOString() } } : {}) } }, ADMIN_KEY, h));
    ok(await s.gql(CHECK, { input: { serviceId, to, code: await latestCode(s, to) } }, ADMIN_KEY, h));
  };

  beforeAll(async () => {
    if (!run) return;
    if (b.pg) pgDb = await createFreshPgDatabase();
    s = await startServer({
      clock,
      env: {
        TRUST_PROXY: "127.0.0.1/32",
        CONSENT_RETENTION_DAYS: "60",
        RETENTION_ROLLUPS: "120d",
        WEBHOOK_MAX_ATTEMPTS: "1",
        PURGE_BATCH: "10",
        ...(pgDb ? { DATABASE_URL: pgDb.url } : {}),
      },
    });
    serviceA = await createService(s);
    serviceB = await createService(s);
    await shadowRisk(s, serviceA);
    await shadowRisk(s, serviceB);
    expect(ok(await s.gql(RETENTION, { s: serviceB, n: 7, r: 14 })).setServiceRetention).toEqual({ serviceId: serviceB, numbersDays: 7, rawDays: 14, own: true });
    ok(await s.gql(WEBHOOK, { s: serviceA }));
    await verify(serviceA, a1, true);
    await verify(serviceA, a2);
    // More rows than one batch (PURGE_BATCH 10): the purger's loops must go round.
    for (let i = 0; i < 8; i++) await verify(serviceA, `+4474003${String(i).padStart(5, "0")}`);
    await verify(serviceB, b1);
    await s.app.dispatcher.idle();
    await s.app.webhooks.idle();
    const hour = Math.floor(T0 / HOUR) * HOUR;
    const day = Math.floor(T0 / DAY) * DAY;
    statsRanges.push(
      ["the hour", new Date(hour), new Date(hour + HOUR), ["COUNTRY"]],
      ["hours around it", new Date(hour - 5 * HOUR), new Date(hour + 7 * HOUR), ["HOUR"]],
      ["the day by prefix", new Date(day), new Date(day + DAY), ["PREFIX"]],
      ["eight days by day", new Date(day - 7 * DAY), new Date(day + DAY), ["DAY", "COUNTRY"]],
    );
    statsBefore = await stats();
  });
  afterAll(async () => {
    await s?.close();
    await pgDb?.drop();
  });

  it.skipIf(!run)("deletes finished delivery jobs and webhook deliveries 24 h after they finished, expired limiter windows and detector buckets that can no longer count; nothing before", async () => {
    const jobs = await count("delivery_jobs");
    expect(jobs).toBe(11);
    expect(await count("delivery_jobs where status = 'sent'")).toBe(11);
    // Webhook deliveries and limiter windows carry wall-clock times (receivers and rate-limiter-flexible read them so).
    const wall = Date.now();
    const hooks = await count("webhook_deliveries where status = 'failed'");
    expect(hooks).toBe(10); // service A's verifications
    await rawSql(s, "update webhook_deliveries set run_at = run_at - $1, updated_at = updated_at - $1 where order_key in (select id from verifications where to_number in ($2, $3))", [25 * HOUR, a1, a2]);
    await rawSql(s, "insert into rate_limits (key, points, expire) values ($1, 1, $2), ($3, 1, $4)", ["test:gone", wall - 1_000, "test:live", wall + HOUR]);
    // The detectors' buckets (named by when they start), and the rate-limit windows the starts and
    // checks took (`vg:` keys, named by when they stop mattering: the end of the next window).
    const detector = "risk_counters where key not like 'vg:%' and bucket < $1";
    const counters = await count(detector, [T0 + HOUR]);
    expect(counters).toBeGreaterThan(0);
    const windows = await count("risk_counters where key like 'vg:%'");
    expect(windows).toBeGreaterThan(0);

    await at(23 * HOUR);
    expect(await count("delivery_jobs")).toBe(jobs);
    expect(await count(detector, [T0 + HOUR])).toBe(counters);
    expect(await count("risk_counters where key like 'vg:%'")).toBe(windows);
    expect(await count("webhook_deliveries")).toBe(hooks - 2);
    expect(await count("rate_limits where key like 'test:%'")).toBe(1);

    // The detectors read back at most a day and a quarter of an hour (their baseline before their burst
    // window): past that, the buckets written at T0 can no longer count. A start now writes fresh ones.
    clock.set(T0 + 24.5 * HOUR);
    await verify(serviceA, "+447400400001");
    await s.app.dispatcher.idle();
    const r = await purge();
    expect(await count("delivery_jobs")).toBe(1); // the one just sent
    expect(r.tables.delivery_jobs).toEqual({ deleted: jobs, anonymized: 0 });
    expect(await count(detector, [T0 + HOUR])).toBe(0);
    expect(await count("risk_counters where bucket >= $1", [T0 + 24 * HOUR])).toBeGreaterThan(0);
    expect(await count("rate_limits where key = 'test:live'")).toBe(1);
    // A rate-limit window goes as a detector bucket does, the same horizon after it stopped mattering:
    // by 26 h, the 10-minute and hourly windows of T0 (ended by T0 + 1 h 40 min), not the day-long ones.
    await at(26 * HOUR);
    expect(await count("risk_counters where key like 'vg:%' and bucket < $1", [T0 + 2 * HOUR])).toBe(0);
    expect(await count("risk_counters where key like 'vg:%' and bucket >= $1", [T0 + DAY])).toBeGreaterThan(0);
    // The rest is inside its retention: untouched.
    expect(await count("verifications")).toBe(12);
    expect(await count("send_attempts")).toBe(12);
    expect(await count("risk_decisions where to_number like '+%' and ip is not null")).toBe(24);
  });

  it.skipIf(!run)("replaces numbers with their keyed hash once past the horizon (a service's own first), and keeps the country", async () => {
    await at(7 * DAY - 60_000);
    expect(await count("verifications where to_number = $1", [b1])).toBe(1);
    const r = await at(7 * DAY + 60_000);
    // Service B (7 days): its verification and decisions hold the token, no number, no IP, no code hash.
    expect(await count("verifications where to_number = $1", [b1])).toBe(0);
    const [v] = await rawSql<{ to_number: string; code_hash: string; code_seed: string | null; country_code: string }>(s, "select to_number, code_hash, code_seed, country_code from verifications where service_id = $1", [serviceB]);
    expect(v).toEqual({ to_number: anonymizedNumber(token(b1)), code_hash: "", code_seed: null, country_code: "GB" });
    expect(await rawSql(s, "select to_number, ip, country, prefix from risk_decisions where service_id = $1 order by kind", [serviceB])).toEqual([
      { to_number: anonymizedNumber(token(b1)), ip: null, country: "GB", prefix: "+44740" },
      { to_number: anonymizedNumber(token(b1)), ip: null, country: "GB", prefix: "+44740" },
    ]);
    expect(r.tables.verifications).toMatchObject({ anonymized: 1 });
    expect(r.tables.risk_decisions).toMatchObject({ anonymized: 2 });
    // Service A (30 days): not yet.
    expect(await count("verifications where to_number like '+%'")).toBe(11);
    await at(30 * DAY - 60_000);
    expect(await count("risk_decisions where service_id = $1 and to_number like '+%'", [serviceA])).toBe(22);
    await at(30 * DAY + 60_000);
    expect(await count("risk_decisions where to_number like '+%' or ip is not null")).toBe(2); // the start made at T0 + 24.5 h
    expect(await count("verifications where to_number like '+%'")).toBe(1);
    // Past its horizon, a number is in no table but the consent records (their own, longer retention).
    const dump = await dumpAll(s);
    expect(dump.includes(a2), "a2 is still stored").toBe(false);
    expect(dump.includes(a1.slice(1))).toBe(true);
    expect(await count("consent_records where to_number = $1", [a1])).toBe(1);
    // An export still finds the anonymized rows through the token.
    const doc = ok(await s.gql<{ exportNumber: { verifications: { to: string }[]; riskDecisions: unknown[] } }>(`query($to: String!) { exportNumber(to: $to) }`, { to: a2 })).exportNumber;
    expect(doc.verifications).toEqual([expect.objectContaining({ to: anonymizedNumber(token(a2)) })]);
    expect(doc.riskDecisions).toHaveLength(2);
  });

  it.skipIf(!run)("deletes raw decisions, verifications and send attempts past the raw horizon, a service's own first", async () => {
    await at(14 * DAY + 60_000 + 30 * DAY); // B's 14 days are long past; A's 90 are not
    expect(await count("risk_decisions where service_id = $1", [serviceB])).toBe(0);
    expect(await count("verifications where service_id = $1", [serviceB])).toBe(0);
    expect(await count("risk_decisions where service_id = $1", [serviceA])).toBe(22);
    expect(await count("send_attempts")).toBe(11);
    await at(60 * DAY + 60_000); // consent records: 60 days
    expect(await count("consent_records")).toBe(0);
    expect(await count("verifications")).toBe(11);
    await at(90 * DAY - 60_000);
    expect(await count("risk_decisions")).toBe(22);
    const r = await at(90 * DAY + 60_000);
    expect(await count("risk_decisions")).toBe(2); // the start at T0 + 24.5 h
    expect(await count("verifications")).toBe(1);
    expect(await count("send_attempts")).toBe(1);
    expect(r.tables.risk_decisions).toMatchObject({ deleted: 20 });
    expect(r.tables.verifications).toMatchObject({ deleted: 10 });
  });

  it.skipIf(!run)("answers fraudStats over a range older than the raw retention from the roll-ups: the same totals as before", async () => {
    expect(await count("risk_decisions where created_at < $1", [T0 + DAY])).toBe(0);
    expect(await stats()).toEqual(statsBefore);
  });

  it.skipIf(!run)("deletes roll-ups past their own horizon, and only then", async () => {
    await at(120 * DAY - HOUR);
    expect(await stats()).toEqual(statsBefore);
    await at(121 * DAY + HOUR);
    // T0's hours and day ended more than 120 days ago; the next day's (the start at T0 + 24.5 h) has not.
    const nextDay = Math.floor(T0 / DAY) * DAY + DAY;
    expect(await count("risk_rollups where bucket < $1", [nextDay])).toBe(0);
    expect(await count("risk_rollups where span = 'DAY' and bucket = $1", [nextDay])).toBeGreaterThan(0);
    expect(await count("risk_prefix_rollups where day < $1", [T0])).toBe(0);
    const [hour] = (await stats()) as { totals: { attempts: number } }[];
    expect(hour!.totals.attempts).toBe(0);
  });

  it.skipIf(!run)("purges only under the lease: while another instance holds it, nothing is touched", async () => {
    const other: Database = await openDatabase(s.app.config.database);
    try {
      const now = clock.now();
      expect(await other.retention.acquire("purger", "another-instance", now, now + 60_000)).toBe(true);
      expect(await s.app.purger.runOnce()).toBeNull();
      const st = ok(await s.gql<{ storeStatus: { purgingOn: string | null } }>(STATUS)).storeStatus;
      expect(st.purgingOn).toBe("another-instance");
      // Its lease runs out (it died): this instance takes over.
      clock.advance(60_001);
      expect(await s.app.purger.runOnce()).not.toBeNull();
    } finally {
      await other.close();
    }
  });

  it.skipIf(!run)("shows the store's size, the last purge and the horizons to admins", async () => {
    const st = ok(await s.gql<{ storeStatus: Record<string, unknown> & { lastPurge: { tables: unknown[] } } }>(STATUS)).storeStatus;
    expect(st).toMatchObject({
      dialect: b.pg ? "postgres" : "sqlite",
      bytes: expect.any(Number),
      purgingOn: null,
      lastPurge: { owner: expect.stringContaining(":"), durationMs: expect.any(Number), error: null },
      retention: { numbersDays: 30, rawDays: 90, rollupsDays: 120, finishedJobsHours: 24, consentDays: 60 },
    });
    expect(st.bytes as number).toBeGreaterThan(0);
    if (!b.pg) {
      // SQLite: the file is in incremental auto-vacuum mode, and the purge handed its free pages back.
      expect((await rawSql<{ auto_vacuum: number }>(s, "pragma auto_vacuum"))[0]!.auto_vacuum).toBe(2);
      expect(st.freeBytes).toBe(0);
    }
    expect(errorOf(await s.gql(RETENTION, { s: serviceA, n: 0 }))).toMatchObject({ code: "INVALID_PARAMETER", detail: { field: "numbersDays" } });
    expect(ok(await s.gql(RETENTION, { s: serviceB, n: null, r: null })).setServiceRetention).toEqual({ serviceId: serviceB, numbersDays: 30, rawDays: 90, own: false });
  });
});
