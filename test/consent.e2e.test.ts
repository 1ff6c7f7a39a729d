import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { ADMIN_KEY, START, createClientKey, createService, errorOf, freshMobile, ok, queryDb, shadowRisk, startServer, type TestServer } from "./helpers/harness.js";

/**
 * Consent evidence (seed 003: "obtain the recipient's opt-in consent … store evidence of each consent
 * event and provide it on request"): recorded with starts, required per service, listed and exported by
 * admins, kept for CONSENT_RETENTION_DAYS.
 */
const RECORDS = `query($to: String, $serviceId: ID, $from: DateTimeISO, $until: DateTimeISO, $first: Int, $after: String) {
  consentRecords(to: $to, serviceId: $serviceId, from: $from, until: $until, first: $first, after: $after) {
    records { id serviceId verificationId to textVersion agreedAt userAgent ip recordedAt } nextCursor } }`;
type Record_ = { id: string; serviceId: string; verificationId: string | null; to: string; textVersion: string; agreedAt: string; userAgent: string | null; ip: string | null; recordedAt: string };
type Page = { consentRecords: { records: Record_[]; nextCursor: string | null } };
const UA = "Mozilla/5.0 (X11; Linux x86_64) Test/1.0";

describe("consent evidence", () => {
  let s: TestServer;
  let clock: ManualClock;
  let required: string;
  let optional: string;
  let clientKey: string;
  const consent = (over: Record<string, unknown> = {}) => ({ textVersion: "signup-2026-01", agreedAt: new Date(clock.now() - 5_000).toISOString(), userAgent: UA, ...over });
  const start = (serviceId: string, to: string, extra: Record<string, unknown> = {}, key: string | null = ADMIN_KEY) =>
    s.gql<{ startVerification: { id: string; status: string } }>(START.replace("sendCodeAttempts { id at channel } lookup { countryCode lineType }", ""), { input: { serviceId, to, channel: "SMS", ...extra } }, key, { "x-forwarded-for": "203.0.113.9" });

  beforeAll(async () => {
    clock = new ManualClock(Date.UTC(2026, 4, 1, 12));
    // TRUST_PROXY: the recorded IP is the client's, as the per-IP limits see it.
    s = await startServer({ clock, env: { TRUST_PROXY: "127.0.0.1/32", CONSENT_RETENTION_DAYS: "30" } });
    required = await createService(s, { requireConsent: true });
    optional = await createService(s);
    await shadowRisk(s, required);
    await shadowRisk(s, optional);
    clientKey = (await createClientKey(s, required)).secret;
  });
  afterAll(async () => s?.close());

  it("refuses a start without consent on a service that requires it: CONSENT_REQUIRED (60200, field consent), nothing counted or sent", async () => {
    const to = freshMobile();
    const r = await start(required, to, {}, clientKey);
    expect(errorOf(r)).toMatchObject({ code: "CONSENT_REQUIRED", errorCode: 60200, detail: { field: "consent" } });
    expect(r.errors![0]!.message).toMatch(/consent/);
    expect(queryDb(s, "select count(*) as n from verifications where to_number = ?", to)).toEqual([{ n: 0 }]);
    expect(queryDb(s, "select count(*) as n from risk_decisions where to_number = ?", to)).toEqual([{ n: 0 }]);
    expect(s.app.services.outbox!.list(to)).toEqual([]);
  });

  it("records a start's consent with the client IP and the server's time, linked to the verification it created", async () => {
    const to = freshMobile();
    const v = ok(await start(required, to, { consent: consent() }, clientKey)).startVerification;
    const page = ok(await s.gql<Page>(RECORDS, { to }));
    expect(page.consentRecords).toEqual({
      records: [
        {
          id: expect.stringMatching(/^CR[0-9a-f]{32}$/),
          serviceId: required,
          verificationId: v.id,
          to,
          textVersion: "signup-2026-01",
          agreedAt: new Date(clock.now() - 5_000).toISOString(),
          userAgent: UA,
          ip: "203.0.113.9",
          recordedAt: new Date(clock.now()).toISOString(),
        },
      ],
      nextCursor: null,
    });
  });

  it("records the end user's IP a backend passes as deviceIp, not the backend's", async () => {
    const to = freshMobile();
    ok(await start(optional, to, { consent: consent(), deviceIp: "198.51.100.23" }));
    expect(ok(await s.gql<Page>(RECORDS, { to })).consentRecords.records.map((r) => r.ip)).toEqual(["198.51.100.23"]);
  });

  it("keeps one record per consent event: a resend with consent adds one, linked to the same verification", async () => {
    const to = freshMobile();
    const first = ok(await start(optional, to, { consent: consent() })).startVerification;
    clock.advance(60_000);
    const again = ok(await start(optional, to, { consent: consent({ textVersion: "signup-2026-02" }) })).startVerification;
    expect(again.id).toBe(first.id);
    const records = ok(await s.gql<Page>(RECORDS, { to })).consentRecords.records;
    expect(records.map((r) => [r.textVersion, r.verificationId])).toEqual([
      ["signup-2026-01", first.id],
      ["signup-2026-02", first.id],
    ]);
  });

  it("accepts a start without consent on a service that does not require it, and records nothing", async () => {
    const to = freshMobile();
    ok(await start(optional, to));
    expect(ok(await s.gql<Page>(RECORDS, { to })).consentRecords.records).toEqual([]);
  });

  it.each<[string, { textVersion?: string; agreedAt?: "FUTURE" | "STALE"; userAgent?: string }]>([
    ["consent.textVersion", { textVersion: "" }],
    ["consent.textVersion", { textVersion: "x".repeat(65) }],
    ["consent.textVersion", { textVersion: "v1\n<script>" }],
    ["consent.agreedAt", { agreedAt: "FUTURE" }],
    ["consent.agreedAt", { agreedAt: "STALE" }],
    ["consent.userAgent", { userAgent: "u".repeat(513) }],
  ])("refuses invalid consent (%s) with 60200 naming the field, and records nothing", async (field, over) => {
    const to = freshMobile();
    const agreedAt = over.agreedAt === "FUTURE" ? new Date(clock.now() + 10 * 60_000).toISOString() : over.agreedAt === "STALE" ? new Date(clock.now() - 25 * 3600_000).toISOString() : undefined;
    const r = await start(required, to, { consent: consent({ ...over, ...(agreedAt ? { agreedAt } : {}) }) }, clientKey);
    expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, detail: { field } });
    expect(queryDb(s, "select count(*) as n from consent_records where to_number = ?", to)).toEqual([{ n: 0 }]);
  });

  it("records no consent for a start the risk pipeline refuses", async () => {
    const blocked = await createService(s, { requireConsent: true }); // not shadowed: NG is geo-blocked by default
    const r = await start(blocked, "+2348012345678", { consent: consent() });
    expect(errorOf(r).code).toBe("GEO_BLOCKED");
    expect(queryDb(s, "select count(*) as n from consent_records where service_id = ?", blocked)).toEqual([{ n: 0 }]);
  });

  it("lists by service and time range, oldest first, a page at a time", async () => {
    const svc = await createService(s);
    await shadowRisk(s, svc);
    const t0 = clock.now();
    const numbers = [freshMobile(), freshMobile(), freshMobile()];
    for (const to of numbers) {
      ok(await start(svc, to, { consent: consent() }));
      clock.advance(1_000);
    }
    const all = ok(await s.gql<Page>(RECORDS, { serviceId: svc, first: 2 })).consentRecords;
    expect(all.records.map((r) => r.to)).toEqual(numbers.slice(0, 2));
    const rest = ok(await s.gql<Page>(RECORDS, { serviceId: svc, first: 2, after: all.nextCursor })).consentRecords;
    expect(rest).toEqual({ records: [expect.objectContaining({ to: numbers[2] })], nextCursor: null });
    const middle = ok(await s.gql<Page>(RECORDS, { serviceId: svc, from: new Date(t0 + 1_000).toISOString(), until: new Date(t0 + 2_000).toISOString() })).consentRecords;
    expect(middle.records.map((r) => r.to)).toEqual([numbers[1]]);
    // Numbers are matched as E.164, whatever format the admin types.
    const national = "0" + numbers[0]!.slice(3);
    expect(errorOf(await s.gql(RECORDS, { to: national })).code).toBe("INVALID_PARAMETER"); // no country: not E.164
    expect(ok(await s.gql<Page>(RECORDS, { to: numbers[0]!.replace(/^(\+44)(\d{4})/, "$1 $2 ") })).consentRecords.records).toHaveLength(1);
  });

  it.each([
    [{ first: 0 }, "first"],
    [{ first: 1001 }, "first"],
    [{ after: "bm90LWEtY3Vyc29y" }, "after"],
    [{ from: "2026-05-02T00:00:00Z", until: "2026-05-01T00:00:00Z" }, "from"],
  ])("refuses a bad listing %j with 60200 naming the field", async (vars, field) => {
    expect(errorOf(await s.gql(RECORDS, vars))).toMatchObject({ code: "INVALID_PARAMETER", detail: { field } });
  });

  it("is for admins only: a client key is refused by the query (its cost budget, else 20403) and gets 20403 from the export", async () => {
    const q = await s.gql(RECORDS, { first: 1 }, clientKey);
    expect(q.data).toBeNull();
    expect([20400, 20403]).toContain(errorOf(q).errorCode);
    const r = await fetch(`${s.url}/admin/consent-records.json`, { headers: { authorization: `Bearer ${clientKey}` } });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN", errorCode: 20403 } }] });
    expect((await fetch(`${s.url}/admin/consent-records.csv`)).status).toBe(401);
  });

  it("exports the same records as CSV and JSON, as downloads, with spreadsheet formulas defused", async () => {
    const to = freshMobile();
    ok(await start(optional, to, { consent: consent({ userAgent: '=HYPERLINK("http://evil.example","x"), "quoted"' }) }));
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    const json = await fetch(`${s.url}/admin/consent-records.json?to=${encodeURIComponent(to)}`, { headers: auth });
    expect(json.headers.get("content-disposition")).toBe('attachment; filename="consent-records.json"');
    expect(json.headers.get("cache-control")).toBe("no-store");
    const rows = (await json.json()) as Record_[];
    expect(rows).toEqual(ok(await s.gql<Page>(RECORDS, { to })).consentRecords.records);

    const csv = await fetch(`${s.url}/admin/consent-records.csv?to=${encodeURIComponent(to)}`, { headers: auth });
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe("id,service_id,verification_id,to,text_version,agreed_at,user_agent,ip,recorded_at");
    expect(lines).toHaveLength(2);
    const r = rows[0]!;
    expect(lines[1]).toBe(`${r.id},${r.serviceId},${r.verificationId},${to},signup-2026-01,${r.agreedAt},"'=HYPERLINK(""http://evil.example"",""x""), ""quoted""",203.0.113.9,${r.recordedAt}`);
  });

  it("answers a bad export query 400 with the coded error, before sending any row", async () => {
    const r = await fetch(`${s.url}/admin/consent-records.csv?from=last-tuesday`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ errors: [{ extensions: { code: "INVALID_PARAMETER", detail: { field: "from" } } }] });
  });

  it("deletes records older than CONSENT_RETENTION_DAYS and keeps younger ones", async () => {
    const svc = await createService(s);
    await shadowRisk(s, svc);
    const old = freshMobile();
    ok(await start(svc, old, { consent: consent() }));
    clock.advance(20 * 86_400_000);
    const young = freshMobile();
    ok(await start(svc, young, { consent: consent() }));
    clock.advance(11 * 86_400_000); // the first is now 31 days old, the second 11
    await s.app.purger.runOnce();
    expect(ok(await s.gql<Page>(RECORDS, { serviceId: svc })).consentRecords.records.map((r) => r.to)).toEqual([young]);
  });
});
