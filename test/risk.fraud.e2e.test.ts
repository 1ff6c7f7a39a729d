import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codesSent,
  createClientKey,
  createService,
  errorOf,
  ok,
  queryDb,
  START,
  startServer,
  type TestServer,
} from "./helpers/harness.js";
import { numbersUnder } from "./helpers/fraud-fixtures.js";

const NIGERIA = "+2348031234567"; // NG: blocked by the default geo permissions
const NIGERIA_2 = "+2348031234568";
const NIGERIA_3 = "+2348031234570";

const GEO = `query($s: ID!) { geoPermissions(serviceId: $s) { country channel permission source } }`;
const SET_GEO = `mutation($s: ID!, $p: [GeoPermissionInput!]!) { setGeoPermissions(serviceId: $s, permissions: $p) { country channel permission source } }`;
const BLOCK = `mutation($p: String!, $s: ID, $r: String!, $e: DateTimeISO) { blockPrefix(prefix: $p, serviceId: $s, reason: $r, expiresAt: $e) { prefix serviceId source reason expiresAt } }`;
const UNBLOCK = `mutation($p: String!, $s: ID) { unblockPrefix(prefix: $p, serviceId: $s) }`;
const BLOCKED = `query($s: ID) { blockedPrefixes(serviceId: $s) { prefix serviceId source reason expiresAt } }`;
const ADD_SAFE = `mutation($n: String!, $note: String) { addSafeNumber(number: $n, note: $note) { number note } }`;
const SAFE = `query { safeNumbers { number note } }`;
const SHADOW = `mutation($s: ID!, $st: [String!]!) { setShadowStages(serviceId: $s, stages: $st) { serviceId protectionLevel shadowStages shadowableStages } }`;
const GUARD = `mutation($s: ID!, $l: ProtectionLevel!) { setFraudGuard(serviceId: $s, level: $l) { protectionLevel } }`;
const SETTINGS = `query($s: ID!) { fraudSettings(serviceId: $s) { protectionLevel shadowStages } }`;

interface DecisionRow {
  kind: string;
  outcome: string;
  stage: string | null;
  code: string | null;
  error_code: number | null;
  reason: string | null;
  shadow: string | null;
  to_number: string | null;
  country: string | null;
  prefix: string | null;
  ip: string | null;
  channel: string | null;
  tags: string | null;
  verification_id: string | null;
}

describe("fraud stages over HTTP", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  const start = (serviceId: string, to: string, extra: Record<string, unknown> = {}, key?: string) => s.gql(START, { input: { serviceId, to, channel: "SMS", ...extra } }, key);
  const decisions = (serviceId: string, to: string) =>
    queryDb<DecisionRow>(s, "select * from risk_decisions where service_id = ? and to_number = ? order by created_at, rowid", serviceId, to);
  const verificationsTo = (to: string) => queryDb(s, "select id from verifications where to_number = ?", to);

  it("refuses a default-blocked country with 60605, creates no verification, sends nothing and logs the decision", async () => {
    const serviceId = await createService(s);
    const r = await start(serviceId, NIGERIA, { tags: [{ key: "flow", value: "signup" }] });
    const err = errorOf(r);
    expect(err).toMatchObject({ code: "GEO_BLOCKED", errorCode: 60605 });
    // No hint beyond the code: the catalog message, not the stage's reason.
    expect(err.message).not.toContain("NG");
    expect(verificationsTo(NIGERIA)).toEqual([]);
    expect(await codesSent(s, NIGERIA)).toEqual([]);
    const [row] = decisions(serviceId, NIGERIA);
    expect(row).toMatchObject({
      kind: "START",
      outcome: "BLOCKED",
      stage: "geo",
      code: "GEO_BLOCKED",
      error_code: 60605,
      reason: "geo permissions block SMS to NG",
      country: "NG",
      prefix: "+234803",
      ip: "127.0.0.1",
      channel: "SMS",
      verification_id: null,
      shadow: null,
    });
    expect(JSON.parse(row!.tags!)).toEqual({ flow: "signup" });
  });

  it("lists the default blocks and lets an admin open a country", async () => {
    const serviceId = await createService(s);
    const geo = ok(await s.gql<{ geoPermissions: { country: string; channel: string; permission: string; source: string }[] }>(GEO, { s: serviceId })).geoPermissions;
    expect(geo).toContainEqual({ country: "NG", channel: "SMS", permission: "BLOCK", source: "DEFAULT" });
    expect(geo.map((g) => g.country)).not.toContain("GB");
    const set = ok(await s.gql<{ setGeoPermissions: { country: string; channel: string; permission: string; source: string }[] }>(SET_GEO, { s: serviceId, p: [{ country: "NG", channel: "SMS", permission: "MONITOR" }] }));
    expect(set.setGeoPermissions).toContainEqual({ country: "NG", channel: "SMS", permission: "MONITOR", source: "ADMIN" });
    ok(await start(serviceId, NIGERIA));
    expect(await codesSent(s, NIGERIA)).toHaveLength(1);
    expect(errorOf(await s.gql(SET_GEO, { s: serviceId, p: [{ country: "ZZ", channel: "SMS", permission: "ALLOW" }] }))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
  });

  it("refuses a blocked prefix with 60410 until it is unblocked", async () => {
    const serviceId = await createService(s);
    const to = "+447400765432";
    const blocked = ok(await s.gql<{ blockPrefix: Record<string, unknown> }>(BLOCK, { p: "+4474007", s: serviceId, r: "rented range" })).blockPrefix;
    expect(blocked).toEqual({ prefix: "+4474007", serviceId, source: "MANUAL", reason: "rented range", expiresAt: null });
    expect(errorOf(await start(serviceId, to))).toMatchObject({ code: "PREFIX_BLOCKED", errorCode: 60410 });
    expect(verificationsTo(to)).toEqual([]);
    expect(decisions(serviceId, to)[0]).toMatchObject({ stage: "prefix-guard", code: "PREFIX_BLOCKED", error_code: 60410, prefix: "+44740", reason: "prefix +4474007 blocked (manual, service): rented range" });
    expect(ok(await s.gql<{ blockedPrefixes: { prefix: string }[] }>(BLOCKED, { s: serviceId })).blockedPrefixes.map((b) => b.prefix)).toEqual(["+4474007"]);
    expect(ok(await s.gql<{ unblockPrefix: boolean }>(UNBLOCK, { p: "+4474007", s: serviceId })).unblockPrefix).toBe(true);
    ok(await start(serviceId, to));
  });

  it("lets a safe-listed number through the geo permissions", async () => {
    const serviceId = await createService(s);
    expect(ok(await s.gql<{ addSafeNumber: unknown }>(ADD_SAFE, { n: NIGERIA_2, note: "QA phone" })).addSafeNumber).toEqual({ number: NIGERIA_2, note: "QA phone" });
    expect(ok(await s.gql<{ safeNumbers: { number: string }[] }>(SAFE)).safeNumbers.map((n) => n.number)).toContain(NIGERIA_2);
    ok(await start(serviceId, NIGERIA_2));
    expect(decisions(serviceId, NIGERIA_2)[0]).toMatchObject({ outcome: "ALLOWED", stage: null, country: "NG" });
  });

  it("skips geo and the prefix guard for riskCheck DISABLE from an admin key, and refuses it from a client key with 20403", async () => {
    const serviceId = await createService(s);
    const client = await createClientKey(s, serviceId);
    expect(errorOf(await start(serviceId, NIGERIA_3, { riskCheck: "DISABLE" }, client.secret))).toMatchObject({ code: "FORBIDDEN", errorCode: 20403 });
    expect(await codesSent(s, NIGERIA_3)).toEqual([]);
    ok(await s.gql(BLOCK, { p: "+234803", s: serviceId, r: "x" }));
    ok(await start(serviceId, NIGERIA_3, { riskCheck: "DISABLE" }));
    expect(await codesSent(s, NIGERIA_3)).toHaveLength(1);
  });

  it("records what a shadowed stage would have blocked and lets the request through", async () => {
    const serviceId = await createService(s);
    const to = "+2348031234590";
    const settings = ok(await s.gql<{ setShadowStages: { shadowStages: string[]; shadowableStages: string[] } }>(SHADOW, { s: serviceId, st: ["geo"] })).setShadowStages;
    expect(settings.shadowStages).toEqual(["geo"]);
    expect(settings.shadowableStages).toEqual(expect.arrayContaining(["geo", "prefix-guard", "signals"]));
    expect(settings.shadowableStages).not.toContain("phone");
    ok(await start(serviceId, to));
    expect(decisions(serviceId, to)[0]).toMatchObject({ outcome: "ALLOWED", stage: null, shadow: "geo:GEO_BLOCKED:geo permissions block SMS to NG" });
    // Back to enforcing.
    ok(await s.gql(SHADOW, { s: serviceId, st: [] }));
    expect(errorOf(await start(serviceId, "+2348031234591"))).toMatchObject({ code: "GEO_BLOCKED" });
    expect(errorOf(await s.gql(SHADOW, { s: serviceId, st: ["phone"] }))).toMatchObject({ code: "INVALID_PARAMETER" });
    expect(errorOf(await s.gql(SHADOW, { s: serviceId, st: ["nope"] }))).toMatchObject({ code: "INVALID_PARAMETER" });
  });

  it("cuts a pumping burst of unchecked sends under one prefix off at STANDARD and shows the auto-block", async () => {
    const serviceId = await createService(s);
    expect(ok(await s.gql<{ fraudSettings: unknown }>(SETTINGS, { s: serviceId })).fraudSettings).toEqual({ protectionLevel: "STANDARD", shadowStages: [] });
    const burst = numbersUnder("+447410123456", 30, 5);
    const codes: string[] = [];
    for (const to of burst) {
      const r = await start(serviceId, to);
      codes.push(r.errors ? errorOf(r).code : "SENT");
    }
    const sent = codes.filter((c) => c === "SENT").length;
    expect(sent).toBe(10);
    expect(codes.slice(10).every((c) => c === "PREFIX_BLOCKED")).toBe(true);
    const [auto] = ok(await s.gql<{ blockedPrefixes: { prefix: string; source: string; reason: string; expiresAt: string }[] }>(BLOCKED, { s: serviceId })).blockedPrefixes;
    expect(auto).toMatchObject({ prefix: "+44741", source: "AUTO" });
    expect(Date.parse(auto!.expiresAt) - Date.now()).toBeGreaterThan(11.9 * 3_600_000);
    expect(ok(await s.gql<{ unblockPrefix: boolean }>(UNBLOCK, { p: "+44741", s: serviceId })).unblockPrefix).toBe(true);
    expect(ok(await s.gql<{ setFraudGuard: unknown }>(GUARD, { s: serviceId, l: "MAX" })).setFraudGuard).toEqual({ protectionLevel: "MAX" });
  });

  it.each([
    ["safeNumbers", SAFE, {}],
    ["blockedPrefixes", BLOCKED, {}],
  ])("keeps %s for admins: a client key gets 20403, no key 20401", async (_name, query, vars) => {
    const serviceId = await createService(s);
    const client = await createClientKey(s, serviceId);
    expect(errorOf(await s.gql(query, vars, client.secret))).toMatchObject({ code: "FORBIDDEN", errorCode: 20403 });
    expect(errorOf(await s.gql(query, vars, null))).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
  });
});
