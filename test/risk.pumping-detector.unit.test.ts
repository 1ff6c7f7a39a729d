import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { parsePhone } from "../src/phone.js";
import { ConversionHistory } from "../src/risk/baselines.js";
import { FraudAdmin } from "../src/risk/fraud-admin.js";
import { PROTECTION_LEVELS } from "../src/risk/protection-levels.js";
import { PumpingDetector } from "../src/risk/pumping-detector.js";
import { geoPermissionsStage } from "../src/risk/stages/geo-permissions.js";
import { prefixGuardStage } from "../src/risk/stages/prefix-guard.js";
import type { RiskRequest } from "../src/risk/types.js";
import { SqlStatsStore } from "../src/store/queries/stats.js";
import type { ProtectionLevel, ServiceRow } from "../src/store/types.js";
import { Numbers } from "../sim/lib/numbers.js";
import { Random } from "../sim/lib/random.js";
import { fraudFixture, numbersUnder, startRequest, type FraudFixture } from "./helpers/fraud-fixtures.js";
import { decisionRow } from "./helpers/store-fixtures.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const UK = "+447400123456"; // prefix +44740, range +4474

/** The pipeline the detector works in (geo, prefix guard) with `detector` (the fixture's) as its observer. */
function harness(f: FraudFixture, detector: PumpingDetector = f.detector) {
  const p = f.pipeline([geoPermissionsStage(f.fraud), prefixGuardStage(f.fraud, detector)], [detector]);
  let seq = 0;
  return {
    /** One start; when allowed, reports the send as the lifecycle does. True = sent. */
    async send(service: ServiceRow, to: string, over: Partial<RiskRequest> = {}): Promise<boolean> {
      const r = await p.evaluate(startRequest(service, to, over));
      if (r.decision.action === "block") return false;
      await p.observe({ type: "sent", ctx: r.ctx, verificationId: `VE${++seq}` });
      return true;
    },
    async approve(service: ServiceRow, to: string): Promise<void> {
      const parsed = parsePhone(to);
      if (!parsed.ok) throw new Error(parsed.reason);
      await p.observe({ type: "approved", serviceId: service.id, verificationId: "VE", prefix: parsed.phone.prefix, country: parsed.phone.country, now: f.clock.now(), to });
    },
  };
}

/** Valid numbers of a country's mobile plan, by prefix (the simulation's generator, seeded). */
const plan = new Numbers(new Random(14));
/** Every Uzbek mobile prefix, ordered so that consecutive ones fall in different ranges. */
const UZ_PREFIXES = across(plan.prefixes("UZ"));

function across(prefixes: string[]): string[] {
  return [...prefixes].sort((a, b) => a.slice(-1).localeCompare(b.slice(-1)) || a.localeCompare(b));
}

/** Sends `to(i)` until one is refused (or `max` were sent); returns how many went out. */
async function sendUntilRefused(h: ReturnType<typeof harness>, service: ServiceRow, to: (i: number) => string, max = 500, stepMs = 20_000, clock?: { advance(ms: number): void }): Promise<number> {
  let sent = 0;
  while (sent < max && (await h.send(service, to(sent)))) {
    sent++;
    clock?.advance(stepMs);
  }
  return sent;
}

describe("SMS-pumping detector: the prefix", () => {
  let f: FraudFixture;
  afterEach(async () => f?.close());

  it.each([
    ["BASIC", 25],
    ["STANDARD", 10],
    ["MAX", 5],
  ] as [ProtectionLevel, number][])("cuts a burst of 40 unchecked sends under one prefix after %s's %i sends", async (level, allowed) => {
    f = await fraudFixture({ protectionLevel: level });
    const h = harness(f);
    let sent = 0;
    for (const to of numbersUnder(UK, 40)) {
      if (await h.send(f.service, to)) sent++;
      f.clock.advance(2_000);
    }
    expect(sent).toBe(allowed);
    expect(allowed).toBe(PROTECTION_LEVELS[level].detector.prefix.minSends);
    const [entry] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(entry).toMatchObject({ prefix: "+44740", source: "AUTO", serviceId: f.service.id, level: "PREFIX", rule: "burst", country: null });
    expect(entry!.reason).toMatch(new RegExp(`^SMS pumping suspected \\(${level}, burst\\): ${allowed} sends in 15 min vs baseline 0\\.0, 0% approved`));
    expect(entry!.figures).toMatchObject({ sends: allowed, approvals: 0, windowMinutes: 15, minSends: allowed });
    // Twilio's cooldown: 12 hours from the detection, renewed below while attempts continue.
    expect(entry!.expiresAt).toBeGreaterThan(f.clock.now() + 11 * HOUR);
  });

  it.each(["BASIC", "STANDARD", "MAX"] as ProtectionLevel[])("never blocks a day of steady traffic whose users check their codes (%s)", async (level) => {
    f = await fraudFixture({ protectionLevel: level });
    const h = harness(f);
    const numbers = numbersUnder(UK, 300, 5);
    // 300 sends over a day, one every ~5 minutes, 4 of 5 users approve within a minute.
    for (let i = 0; i < numbers.length; i++) {
      expect(await h.send(f.service, numbers[i]!)).toBe(true);
      f.clock.advance(MINUTE);
      if (i % 5 !== 0) await h.approve(f.service, numbers[i]!);
      f.clock.advance(4 * MINUTE);
    }
    expect(await f.fraud.listPrefixBlocks(f.clock.now())).toEqual([]);
  });

  it("judges nobody before the minimum sample: nine unchecked sends pass at STANDARD", async () => {
    f = await fraudFixture();
    const h = harness(f);
    for (const to of numbersUnder(UK, 9)) expect(await h.send(f.service, to)).toBe(true);
    expect(await f.fraud.listPrefixBlocks(f.clock.now())).toEqual([]);
    expect(f.events).toEqual([]);
  });

  it("blocks a burst only when it is well above the prefix's baseline", async () => {
    f = await fraudFixture();
    const h = harness(f);
    const numbers = numbersUnder(UK, 1_100, 5);
    let n = 0;
    // Baseline: 960 sends over a day (10 per 15 minutes), 60% approved; then a quiet quarter hour.
    for (let i = 0; i < 960; i++) {
      expect(await h.send(f.service, numbers[n++]!)).toBe(true);
      if (i % 5 < 3) await h.approve(f.service, numbers[n - 1]!);
      f.clock.advance(90_000);
    }
    f.clock.advance(15 * MINUTE);
    // A window of 40 sends with 4 approvals: conversion 10% is low, but 40 is not 5x the baseline of 10.
    for (let i = 0; i < 40; i++) {
      expect(await h.send(f.service, numbers[n++]!)).toBe(true);
      if (i < 4) await h.approve(f.service, numbers[n - 1]!);
    }
    expect(await f.fraud.listPrefixBlocks(f.clock.now())).toEqual([]);
    // Past 50 (5 x 10) unchecked sends in the window it is a burst: the 51st send is the last.
    let sent = 0;
    while (await h.send(f.service, numbers[n++]!)) sent++;
    expect(sent).toBe(11);
  });

  it("catches a slow drip that never makes a burst with the 24-hour rule", async () => {
    f = await fraudFixture();
    const h = harness(f);
    let sent = 0;
    // 2 unchecked sends every 15 minutes stays under the burst sample of 10 forever. Real users in
    // another British range keep the country's conversion healthy, so only the prefix can tell.
    const real = numbersUnder("+447510123456", 100, 5);
    for (const [i, to] of numbersUnder(UK, 100, 5).entries()) {
      if (await h.send(f.service, to)) sent++;
      expect(await h.send(f.service, real[i]!)).toBe(true);
      await h.approve(f.service, real[i]!);
      f.clock.advance(7.5 * MINUTE);
    }
    expect(sent).toBe(PROTECTION_LEVELS.STANDARD.detector.prefix.sustainedMinSends);
    const [entry] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(entry).toMatchObject({ level: "PREFIX", rule: "sustained" });
    expect(entry!.reason).toContain("(STANDARD, sustained): 40 sends in 24 h, 0% approved");
  });

  it("renews an auto-block while refused attempts continue, and lets it lapse once they stop", async () => {
    f = await fraudFixture();
    const h = harness(f);
    const numbers = numbersUnder(UK, 200, 5);
    let i = 0;
    while (await h.send(f.service, numbers[i++]!));
    const first = (await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id))[0]!;
    // The attack goes on: 10 refused attempts per 15 minutes for 11 hours.
    for (let t = 0; t < 11 * 4; t++) {
      for (let k = 0; k < 10; k++) expect(await h.send(f.service, numbers[i++ % 200]!)).toBe(false);
      f.clock.advance(15 * MINUTE);
    }
    const renewed = (await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id))[0]!;
    expect(renewed.expiresAt!).toBeGreaterThan(first.expiresAt! + 10 * HOUR);
    expect(renewed.createdAt).toBe(first.createdAt);
    expect(renewed.reason).toMatch(/; renewed: \d+ refused attempts in 15 min, \d+ in 24 h$/);
    // The row keeps the detection's evidence; each write was published, renewals with their own figures.
    expect(renewed).toMatchObject({ rule: "burst", figures: first.figures });
    expect(f.events[0]!.autoBlock).toMatchObject({ level: "PREFIX", prefix: "+44740", rule: "burst", expiresAt: first.expiresAt });
    const renewals = f.events.slice(1).map((e) => e.autoBlock!);
    expect(renewals.length).toBeGreaterThan(5);
    expect(renewals.every((b) => b.rule === "renewed" && b.figures.refusedAttempts! >= 10)).toBe(true);
    expect(renewals.at(-1)!.expiresAt).toBe(renewed.expiresAt);
    // The attack stops: the block lapses 12 hours after its last renewal.
    f.clock.set(renewed.expiresAt!);
    expect(await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id)).toEqual([]);
  });

  it("keeps a slow drip's block renewed: refused attempts over the day count too", async () => {
    f = await fraudFixture();
    const h = harness(f);
    const numbers = numbersUnder(UK, 400, 5);
    let i = 0;
    while (await h.send(f.service, numbers[i++]!)) f.clock.advance(7.5 * MINUTE);
    const first = (await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id))[0]!;
    // Three refused attempts per 15 minutes (never 10 within the window) for 30 hours.
    for (let t = 0; t < 30 * 4; t++) {
      for (let k = 0; k < 3; k++) expect(await h.send(f.service, numbers[i++ % 400]!)).toBe(false);
      f.clock.advance(15 * MINUTE);
    }
    const renewed = (await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id))[0]!;
    expect(renewed.expiresAt!).toBeGreaterThan(first.expiresAt! + 17 * HOUR);
  });

  it("does not count trusted sends (riskCheck disabled) and never auto-blocks an ALLOW destination", async () => {
    f = await fraudFixture({ protectionLevel: "MAX" });
    const h = harness(f);
    for (const to of numbersUnder(UK, 20)) expect(await h.send(f.service, to, { riskCheck: false })).toBe(true);
    expect(await f.counter.count(`pd:send:${f.service.id}:+44740`, 0, f.clock.now())).toBe(0);
    expect(await f.counter.count(`pd:send:${f.service.id}:CGB`, 0, f.clock.now())).toBe(0);

    const admin = new FraudAdmin({ store: f.fraud, services: f.services, detector: f.detector, clock: f.clock, stageNames: [] });
    await admin.setGeoPermissions(f.service.id, [{ country: "GB", channel: "SMS", permission: "ALLOW" }]);
    const allowSvc = (await f.services.get(f.service.id)) as ServiceRow;
    for (const to of numbersUnder(UK, 30)) expect(await h.send(allowSvc, to)).toBe(true);
    expect(await f.fraud.listPrefixBlocks(f.clock.now())).toEqual([]);
  });

  it("judges a prefix afresh after an admin lifts its auto-block", async () => {
    f = await fraudFixture();
    const h = harness(f);
    const admin = new FraudAdmin({ store: f.fraud, services: f.services, detector: f.detector, clock: f.clock, stageNames: [] });
    const numbers = numbersUnder(UK, 40);
    let i = 0;
    while (await h.send(f.service, numbers[i++]!));
    expect(await admin.unblockPrefix("+44740", f.service.id)).toBe(true);
    let sent = 0;
    while (await h.send(f.service, numbers[i++]!)) sent++;
    expect(sent).toBe(PROTECTION_LEVELS.STANDARD.detector.prefix.minSends);
  });

  it("keeps each service's counters apart", async () => {
    f = await fraudFixture();
    const other = await f.addService();
    const h = harness(f);
    const numbers = numbersUnder(UK, 18);
    for (let i = 0; i < numbers.length; i++) expect(await h.send(i % 2 ? other : f.service, numbers[i]!)).toBe(true);
  });

  it("logs, and does not throw, when its counters fail after a send was committed", async () => {
    f = await fraudFixture();
    const lines: string[] = [];
    const detector = new PumpingDetector({ counter: f.counter, store: f.fraud, log: createLogger("error", (l) => lines.push(l)) });
    const r = await f.pipeline([]).evaluate(startRequest(f.service, UK));
    await f.store.close(); // the database goes away under the detector
    await expect(detector.observe({ type: "sent", ctx: r.ctx, verificationId: "VE1" })).resolves.toBeUndefined();
    expect(lines.join("\n")).toContain("detector could not record an outcome");
  });
});

describe("SMS-pumping detector: the range (calling code + 2 digits)", () => {
  let f: FraudFixture;
  afterEach(async () => f?.close());
  /** A number under the range +4474's prefix +4474d. */
  const child = (d: number, i: number) => numbersUnder(`+4474${d}0123456`, i + 1, 5)[i]!;

  it.each([
    ["BASIC", 40],
    ["STANDARD", 15],
    ["MAX", 8],
  ] as [ProtectionLevel, number][])("blocks the range at %s after %i sends rotating over its ten prefixes, none of which ever reached its own threshold", async (level, allowed) => {
    f = await fraudFixture({ protectionLevel: level });
    const h = harness(f);
    const sent = await sendUntilRefused(h, f.service, (i) => child(i % 10, Math.floor(i / 10)), 200, 2_000, f.clock);
    expect(sent).toBe(allowed);
    expect(allowed).toBe(PROTECTION_LEVELS[level].detector.range.minSends);
    const blocks = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ prefix: "+4474", level: "RANGE", rule: "range burst", country: null });
    expect(blocks[0]!.reason).toMatch(new RegExp(`^SMS pumping suspected \\(${level}, range burst\\): \\+4474x: ${allowed} sends in 15 min`));
    expect(blocks[0]!.reason).toContain(`all ${Math.min(10, allowed)} of its prefixes that sent are pumped`);
    // Every prefix of the range is refused now, including one that never sent; the next range is not.
    expect(await h.send(f.service, child(5, 90))).toBe(false);
    expect(await h.send(f.service, "+447510123456")).toBe(true);
  });

  it("spares the prefixes of the range where users convert: only the pumped ones are blocked", async () => {
    f = await fraudFixture();
    const h = harness(f);
    // Real users on +44740 and +44741, who check their codes.
    for (const d of [0, 1]) {
      expect(await h.send(f.service, child(d, 0))).toBe(true);
      await h.approve(f.service, child(d, 0));
      f.clock.advance(MINUTE);
    }
    // An attack rotating over the other eight prefixes. The range's 15th send, with 2 of 15 (13 %)
    // approved, is where its conversion has collapsed: 13 pumped sends.
    const sent = await sendUntilRefused(h, f.service, (i) => child(2 + (i % 8), 10 + Math.floor(i / 8)), 200, 2_000, f.clock);
    expect(sent).toBe(13);
    const blocks = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(blocks.map((b) => b.prefix).sort()).toEqual(["+44742", "+44743", "+44744", "+44745", "+44746", "+44747", "+44748", "+44749"]);
    expect(blocks.every((b) => b.level === "PREFIX" && b.rule === "range burst" && b.reason.includes("spared 2 where users convert"))).toBe(true);
    // The real users' prefixes still send.
    expect(await h.send(f.service, child(0, 50))).toBe(true);
    expect(await h.send(f.service, child(1, 50))).toBe(true);
  });
});

describe("SMS-pumping detector: the country", () => {
  let f: FraudFixture;
  afterEach(async () => f?.close());
  /** A rotating attack over every Uzbek mobile prefix. */
  const rotating = (i: number) => plan.under("UZ", UZ_PREFIXES[i % UZ_PREFIXES.length]!);

  it("covers the whole plan: the attack below walks more than a hundred prefixes in a dozen ranges", () => {
    expect(UZ_PREFIXES.length).toBeGreaterThan(100);
    expect(new Set(UZ_PREFIXES.map((p) => p.slice(0, -1))).size).toBeGreaterThan(10);
  });

  it.each([
    ["BASIC", 50],
    ["STANDARD", 20],
    ["MAX", 10],
  ] as [ProtectionLevel, number][])("puts a new destination on a 12-hour country block at %s after the floor of %i unconverted sends", async (level, floor) => {
    f = await fraudFixture({ protectionLevel: level });
    const h = harness(f);
    const sent = await sendUntilRefused(h, f.service, rotating, 500, 10_000, f.clock);
    expect(sent).toBe(floor);
    expect(floor).toBe(PROTECTION_LEVELS[level].detector.country.floorPerHour);
    const [entry, ...rest] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ prefix: "+998", country: "UZ", level: "COUNTRY", rule: "country surge", source: "AUTO" });
    expect(entry!.reason).toBe(`SMS pumping suspected (${level}, country surge): ${floor} unconverted sends to UZ in 1 h, threshold ${floor} (floor; busiest converted hour in 14 days: 0), 0% approved`);
    expect(entry!.figures).toMatchObject({ sends: floor, approvals: 0, unconverted: floor, threshold: floor, busiestConverted: 0, windowMinutes: 60 });
    expect(entry!.expiresAt).toBe(f.clock.now() - 10_000 + 12 * HOUR);
    expect(f.events.map((e) => [e.type, e.autoBlock?.level, e.country])).toEqual([["AUTO_BLOCKED", "COUNTRY", "UZ"]]);
    // Every Uzbek number is refused, whatever its range; another country is not.
    expect(await h.send(f.service, plan.under("UZ", "+99833"))).toBe(false);
    expect(await h.send(f.service, UK)).toBe(true);
  });

  it("blocks only the country, not its calling code's other countries (+1: Canada, not the US)", async () => {
    f = await fraudFixture();
    const h = harness(f);
    const caPrefixes = plan.prefixes("CA");
    await sendUntilRefused(h, f.service, (i) => plan.under("CA", caPrefixes[i % caPrefixes.length]!), 200, 10_000, f.clock);
    const [entry] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(entry).toMatchObject({ prefix: "+1", country: "CA", level: "COUNTRY" });
    expect(await h.send(f.service, plan.mobile("CA"))).toBe(false);
    expect(await h.send(f.service, plan.mobile("US"))).toBe(true);
  });

  it("catches a slow drip over a whole country with the 24-hour rule", async () => {
    f = await fraudFixture();
    const h = harness(f);
    // One unconverted send every 8 minutes: 7.5 an hour never reaches the hourly floor of 20.
    const sent = await sendUntilRefused(h, f.service, rotating, 500, 8 * MINUTE, f.clock);
    expect(sent).toBe(PROTECTION_LEVELS.STANDARD.detector.country.floorPerDay);
    const [entry] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(entry).toMatchObject({ country: "UZ", level: "COUNTRY", rule: "country sustained" });
    expect(entry!.reason).toContain("20 unconverted sends to UZ in 24 h, threshold 20");
  });

  it("blocks the range instead when one range carries half of the country's unconverted sends", async () => {
    f = await fraudFixture();
    const h = harness(f);
    const elsewhere = UZ_PREFIXES.filter((p) => !p.startsWith("+99890"));
    // 9 sends spread over the country, then 11 in +99890x: the country reaches 20 while the range has 11 (< 15).
    for (let i = 0; i < 9; i++) expect(await h.send(f.service, plan.under("UZ", elsewhere[i * 7]!))).toBe(true);
    for (let i = 0; i < 11; i++) expect(await h.send(f.service, plan.under("UZ", `+99890${i % 10}`))).toBe(true);
    const blocks = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(blocks.map((b) => [b.prefix, b.level, b.rule])).toEqual([["+99890", "RANGE", "country surge"]]);
    expect(blocks[0]!.reason).toContain("20 unconverted sends to UZ in 1 h");
    expect(blocks[0]!.reason).toContain("11 of them to +99890x");
    expect(await h.send(f.service, plan.under("UZ", "+998905"))).toBe(false);
    expect(await h.send(f.service, plan.under("UZ", elsewhere[99]!))).toBe(true);
  });

  it("never blocks a launch: 300 real users to one country within two hours, 85% of them converting", async () => {
    f = await fraudFixture({ protectionLevel: "MAX" });
    const h = harness(f);
    const rand = new Random(3);
    for (let i = 0; i < 300; i++) {
      const to = rotating(i * 13);
      expect(await h.send(f.service, to)).toBe(true);
      f.clock.advance(12_000);
      if (rand.chance(0.85)) await h.approve(f.service, to);
      f.clock.advance(12_000);
    }
    expect(await f.fraud.listPrefixBlocks(f.clock.now())).toEqual([]);
  });

  it("lifts a country block on request and judges the country afresh", async () => {
    f = await fraudFixture();
    const h = harness(f);
    const admin = new FraudAdmin({ store: f.fraud, services: f.services, detector: f.detector, clock: f.clock, stageNames: [] });
    let i = await sendUntilRefused(h, f.service, rotating, 500, 10_000, f.clock);
    expect(await admin.unblockCountry(f.service.id, "uz")).toBe(true);
    expect(await admin.unblockCountry(f.service.id, "UZ")).toBe(false);
    const again = await sendUntilRefused(h, f.service, (k) => rotating(i + k), 500, 10_000, f.clock);
    i += again;
    expect(again).toBe(PROTECTION_LEVELS.STANDARD.detector.country.floorPerHour);
    await expect(admin.unblockCountry(f.service.id, "XX")).rejects.toMatchObject({ code: "INVALID_PARAMETER" });
  });

  it("adapts the threshold to the service's own history there: twice its busiest converted hour of 14 days", async () => {
    f = await fraudFixture();
    // History: on one day a week ago, 40 converted sends to UZ within one hour (and a few elsewhere).
    const weekAgo = f.clock.now() - 7 * 24 * HOUR;
    for (let i = 0; i < 40; i++) await f.store.insertDecision(decisionRow(f.service.id, { to: rotating(i), country: "UZ", prefix: "+998901", converted: true, createdAt: weekAgo + i * MINUTE }));
    for (let i = 0; i < 8; i++) await f.store.insertDecision(decisionRow(f.service.id, { converted: true, createdAt: weekAgo + 2 * HOUR + i * MINUTE }));
    const history = new ConversionHistory({ stats: new SqlStatsStore(f.db), clock: f.clock });
    expect((await history.of(f.service.id)).get("UZ")).toEqual({ hourMax: 40, dayMax: 40, sends: 40, converted: 40 });
    const detector = new PumpingDetector({ counter: f.counter, store: f.fraud, history });
    const h = harness(f, detector);
    // The threshold is 2 × 40 = 80 unconverted sends within an hour (the floor, 20, is below it).
    const sent = await sendUntilRefused(h, f.service, rotating, 500, 10_000, f.clock);
    expect(sent).toBe(80);
    const [entry] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(entry!.reason).toContain("threshold 80 (2 × busiest converted hour in 14 days (40))");
    // A country the service never sent to still gets the floor.
    const caPrefixes = plan.prefixes("CA");
    expect(await sendUntilRefused(h, f.service, (i) => plan.under("CA", caPrefixes[i % caPrefixes.length]!), 500, 10_000, f.clock)).toBe(20);
  });
});
