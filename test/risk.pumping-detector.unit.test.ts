import { afterEach, describe, expect, it } from "vitest";
import { FraudAdmin } from "../src/risk/fraud-admin.js";
import { createLogger } from "../src/log.js";
import { PROTECTION_LEVELS } from "../src/risk/protection-levels.js";
import { PumpingDetector } from "../src/risk/pumping-detector.js";
import { geoPermissionsStage } from "../src/risk/stages/geo-permissions.js";
import { prefixGuardStage } from "../src/risk/stages/prefix-guard.js";
import type { RiskRequest } from "../src/risk/types.js";
import type { ProtectionLevel, ServiceRow } from "../src/store/types.js";
import { fraudFixture, numbersUnder, startRequest, type FraudFixture } from "./helpers/fraud-fixtures.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const UK = "+447400123456"; // prefix +44740

/** The pipeline the detector works in (geo, prefix guard) with the detector as its observer. */
function harness(f: FraudFixture) {
  const p = f.pipeline([geoPermissionsStage(f.fraud), prefixGuardStage(f.fraud, f.detector)], [f.detector]);
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
      const prefix = to.slice(0, 6); // "+44" + 3 national digits, as phone.ts builds it
      await p.observe({ type: "approved", serviceId: service.id, verificationId: "VE", prefix, now: f.clock.now(), to });
    },
  };
}

describe("SMS-pumping detector", () => {
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
    expect(allowed).toBe(PROTECTION_LEVELS[level].detector.minSends);
    const [entry] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
    expect(entry).toMatchObject({ prefix: "+44740", source: "AUTO", serviceId: f.service.id });
    expect(entry!.reason).toMatch(new RegExp(`^SMS pumping suspected \\(${level}, burst\\): ${allowed} sends in 15 min vs baseline 0\\.0, 0% approved`));
    // Twilio's cooldown: 12 hours from the detection, renewed below while attempts continue.
    expect(entry!.expiresAt).toBeGreaterThan(f.clock.now() + 11 * HOUR);
  });

  it.each(["BASIC", "STANDARD", "MAX"] as ProtectionLevel[])(
    "never blocks a day of steady traffic whose users check their codes (%s)",
    async (level) => {
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
    },
  );

  it("judges nobody before the minimum sample: nine unchecked sends pass at STANDARD", async () => {
    f = await fraudFixture();
    const h = harness(f);
    for (const to of numbersUnder(UK, 9)) expect(await h.send(f.service, to)).toBe(true);
    expect(await f.detector.judge(f.service.id, "+44740", "STANDARD", f.clock.now())).toBeNull();
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
    expect(await f.detector.judge(f.service.id, "+44740", "STANDARD", f.clock.now())).toBeNull();
    // Past 50 (5 x 10) unchecked sends in the window it is a burst: the 51st send is the last.
    let sent = 0;
    while (await h.send(f.service, numbers[n++]!)) sent++;
    expect(sent).toBe(11);
  });

  it("catches a slow drip that never makes a burst with the 24-hour rule", async () => {
    f = await fraudFixture();
    const h = harness(f);
    let sent = 0;
    // 6 unchecked sends every 15 minutes stays under the burst sample of 10 forever.
    for (const to of numbersUnder(UK, 100, 5)) {
      if (await h.send(f.service, to)) sent++;
      f.clock.advance(2.5 * MINUTE);
    }
    expect(sent).toBe(PROTECTION_LEVELS.STANDARD.detector.sustainedMinSends);
    const [entry] = await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id);
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
    expect(renewed.reason).toMatch(/; renewed: \d+ refused attempts in 15 min$/);
    // Each write of the block was published: the detection, then renewals with their own figures.
    expect(f.events[0]!.autoBlock).toMatchObject({ level: "PREFIX", prefix: "+44740", rule: "burst", expiresAt: first.expiresAt });
    const renewals = f.events.slice(1).map((e) => e.autoBlock!);
    expect(renewals.length).toBeGreaterThan(5);
    expect(renewals.every((b) => b.rule === "renewed" && b.figures.refusedAttempts! >= 10)).toBe(true);
    expect(renewals.at(-1)!.expiresAt).toBe(renewed.expiresAt);
    // The attack stops: the block lapses 12 hours after its last renewal.
    f.clock.set(renewed.expiresAt!);
    expect(await f.fraud.listPrefixBlocks(f.clock.now(), f.service.id)).toEqual([]);
  });

  it("does not count trusted sends (riskCheck disabled) and never auto-blocks an ALLOW destination", async () => {
    f = await fraudFixture({ protectionLevel: "MAX" });
    const h = harness(f);
    for (const to of numbersUnder(UK, 20)) expect(await h.send(f.service, to, { riskCheck: false })).toBe(true);
    expect(await f.counter.count(`pd:send:${f.service.id}:+44740`, 0, f.clock.now())).toBe(0);

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
    expect(sent).toBe(PROTECTION_LEVELS.STANDARD.detector.minSends);
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
