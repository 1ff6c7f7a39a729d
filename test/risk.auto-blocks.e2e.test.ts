import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { ADMIN_KEY, createService, ok, START, startServer, type TestServer } from "./helpers/harness.js";
import { numbersUnder } from "./helpers/fraud-fixtures.js";
import { record, wsClient, type WsClient } from "./helpers/ws.js";
import { Numbers } from "../sim/lib/numbers.js";
import { Random } from "../sim/lib/random.js";

/**
 * Issue 14: every automatic block is published on the service's `verificationEvents` feed with its
 * rule, figures and expiry, so an admin (or the dashboard's feed) sees it the moment it happens.
 */
const HOUR = 3_600_000;
const EVENTS = `subscription($s: ID!) {
  verificationEvents(serviceId: $s) {
    type serviceId verificationId country
    autoBlock { level prefix country rule reason expiresAt figures { name value } }
  }
}`;
interface AutoBlockView {
  level: string;
  prefix: string;
  country: string | null;
  rule: string;
  reason: string;
  expiresAt: string;
  figures: { name: string; value: number }[];
}
type Events = { verificationEvents: { type: string; serviceId: string; verificationId: string | null; country: string | null; autoBlock: AutoBlockView | null } };

describe("auto-block events", () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 10));
  let s: TestServer;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    s = await startServer({ clock });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => s?.close());

  it("publishes the prefix block on verificationEvents with its rule, figures and expiry", async () => {
    const serviceId = await createService(s, { friendlyName: "Feed" });
    const ws = wsClient(s, ADMIN_KEY);
    clients.push(ws);
    const sub = record<Events>(ws, EVENTS, { s: serviceId });
    await sub.waitFor(1);
    // Ten unchecked sends to one prefix, a few seconds apart: the STANDARD burst rule fires on the tenth.
    for (const to of numbersUnder("+447400123456", 11, 5)) {
      await s.gql(START, { input: { serviceId, to, channel: "SMS" } });
      clock.advance(3_000);
    }
    const events = (await sub.waitFor(13)).map((r) => r.data!.verificationEvents);
    expect(events.map((e) => e.type)).toEqual(["SUBSCRIBED", ...Array(10).fill("CREATED"), "AUTO_BLOCKED", "RISK_BLOCKED"]);
    const auto = events[11]!;
    expect(auto).toMatchObject({ serviceId, verificationId: null, country: "GB" });
    expect(auto.autoBlock).toMatchObject({ level: "PREFIX", prefix: "+44740", country: "GB", rule: "burst" });
    expect(auto.autoBlock!.reason).toMatch(/^SMS pumping suspected \(STANDARD, burst\): 10 sends in 15 min/);
    expect(Object.fromEntries(auto.autoBlock!.figures.map((f) => [f.name, f.value]))).toMatchObject({ sends: 10, approvals: 0, windowMinutes: 15 });
    // Twilio's 12 hours from the send that tripped it (the tenth, 27 s after the first).
    expect(Date.parse(auto.autoBlock!.expiresAt)).toBe(Date.UTC(2026, 2, 2, 10) + 27_000 + 12 * HOUR);
    // The same block is what an admin reads in the block list.
    const { blockedPrefixes } = ok(await s.gql<{ blockedPrefixes: { prefix: string; source: string; reason: string }[] }>(`query($s: ID) { blockedPrefixes(serviceId: $s) { prefix source reason } }`, { s: serviceId }));
    expect(blockedPrefixes).toEqual([{ prefix: "+44740", source: "AUTO", reason: auto.autoBlock!.reason }]);
  });

  it("blocks a whole country for the service when an attack spreads over it, shows the evidence, and lifts it on request", async () => {
    const serviceId = await createService(s, { friendlyName: "Country" });
    const ws = wsClient(s, ADMIN_KEY);
    clients.push(ws);
    const sub = record<Events>(ws, EVENTS, { s: serviceId });
    await sub.waitFor(1);
    const plan = new Numbers(new Random(5));
    // One send to each Uzbek prefix in turn, ordered so that consecutive ones fall in different ranges.
    const prefixes = plan.prefixes("UZ").sort((a, b) => a.slice(-1).localeCompare(b.slice(-1)) || a.localeCompare(b));
    const codes: string[] = [];
    for (let i = 0; i < 25; i++) {
      const r = await s.gql(START, { input: { serviceId, to: plan.under("UZ", prefixes[i]!), channel: "SMS" } });
      codes.push(r.errors?.[0]?.extensions.code ?? "sent");
      clock.advance(30_000);
    }
    expect(codes).toEqual([...Array(20).fill("sent"), ...Array(5).fill("PREFIX_BLOCKED")]);
    const auto = (await sub.waitFor(26)).map((r) => r.data!.verificationEvents).find((e) => e.type === "AUTO_BLOCKED")!;
    expect(auto.autoBlock).toMatchObject({ level: "COUNTRY", prefix: "+998", country: "UZ", rule: "country surge" });
    expect(Object.fromEntries(auto.autoBlock!.figures.map((f) => [f.name, f.value]))).toMatchObject({ sends: 20, approvals: 0, unconverted: 20, threshold: 20, windowMinutes: 60 });

    const LIST = `query($s: ID) { blockedPrefixes(serviceId: $s) { prefix country level rule source expiresAt figures { name value } } }`;
    type Listed = { blockedPrefixes: { prefix: string; country: string | null; level: string | null; rule: string | null; figures: { name: string }[] | null }[] };
    const [entry] = ok(await s.gql<Listed>(LIST, { s: serviceId })).blockedPrefixes;
    expect(entry).toMatchObject({ prefix: "+998", country: "UZ", level: "COUNTRY", rule: "country surge", source: "AUTO" });
    expect(entry!.figures!.map((f) => f.name)).toContain("busiestConverted");
    // Other countries still send; an admin lifts the block and Uzbek numbers send again.
    ok(await s.gql(START, { input: { serviceId, to: "+447400123999", channel: "SMS" } }));
    const UNBLOCK = `mutation($s: ID!, $c: String!) { unblockCountry(serviceId: $s, country: $c) }`;
    expect(ok(await s.gql<{ unblockCountry: boolean }>(UNBLOCK, { s: serviceId, c: "UZ" })).unblockCountry).toBe(true);
    expect(ok(await s.gql<Listed>(LIST, { s: serviceId })).blockedPrefixes).toEqual([]);
    ok(await s.gql(START, { input: { serviceId, to: plan.under("UZ", prefixes[30]!), channel: "SMS" } }));
  });
});
