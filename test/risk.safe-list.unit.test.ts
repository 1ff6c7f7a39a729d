import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FraudAdmin } from "../src/risk/fraud-admin.js";
import { geoPermissionsStage } from "../src/risk/stages/geo-permissions.js";
import { prefixGuardStage } from "../src/risk/stages/prefix-guard.js";
import { safeListStage } from "../src/risk/stages/safe-list.js";
import { allow, block, type RiskStage } from "../src/risk/types.js";
import { checkRequest, fraudFixture, startRequest, type FraudFixture } from "./helpers/fraud-fixtures.js";

const NIGERIA = "+2348031234567"; // NG is blocked by the default geo permissions

describe("safe-list stage", () => {
  let f: FraudFixture;
  let admin: FraudAdmin;
  beforeEach(async () => {
    f = await fraudFixture();
    admin = new FraudAdmin({ store: f.fraud, services: f.services, detector: f.detector, clock: f.clock, stageNames: ["phone", "safe-list", "geo", "prefix-guard"] });
  });
  afterEach(async () => f.close());

  /** A non-fraud stage standing where the limits sit: it must run for trusted numbers too. */
  const limitsLike = (): RiskStage & { seen: number } => {
    const s = {
      name: "limits",
      appliesTo: ["START", "CHECK"] as const,
      fraud: false,
      seen: 0,
      evaluate() {
        s.seen++;
        return s.seen > 1 ? block("RATE_LIMITED", "second request") : allow;
      },
    };
    return s;
  };

  it("marks a safe-listed number trusted so geo permissions and the prefix guard skip it", async () => {
    await admin.addSafeNumber(NIGERIA, "our QA phone");
    await admin.blockPrefix({ prefix: "+234803", serviceId: null, reason: "test", expiresAt: null });
    const p = f.pipeline([safeListStage(f.fraud), geoPermissionsStage(f.fraud), prefixGuardStage(f.fraud, f.detector)]);
    const r = await p.evaluate(startRequest(f.service, NIGERIA));
    expect(r.decision).toEqual({ action: "allow" });
    expect(r.ctx.trusted).toBe(true);
    // The geo stage never ran, so it left no permission on the context.
    expect(r.ctx.geoPermission).toBeUndefined();
  });

  it("does not exempt a trusted number from the stages that are not fraud stages (the limits)", async () => {
    await admin.addSafeNumber(NIGERIA, null);
    const limits = limitsLike();
    const p = f.pipeline([safeListStage(f.fraud), geoPermissionsStage(f.fraud), limits]);
    expect((await p.evaluate(startRequest(f.service, NIGERIA))).decision.action).toBe("allow");
    const second = await p.evaluate(startRequest(f.service, NIGERIA));
    expect(second.decision).toMatchObject({ action: "block", code: "RATE_LIMITED" });
    expect(second.stage).toBe("limits");
  });

  it("blocks the same number again once it is removed from the list", async () => {
    await admin.addSafeNumber(NIGERIA, null);
    expect(await admin.removeSafeNumber(NIGERIA)).toBe(true);
    expect(await admin.removeSafeNumber(NIGERIA)).toBe(false);
    const p = f.pipeline([safeListStage(f.fraud), geoPermissionsStage(f.fraud)]);
    const r = await p.evaluate(startRequest(f.service, NIGERIA));
    expect(r.decision).toMatchObject({ action: "block", code: "GEO_BLOCKED" });
    expect(r.ctx.trusted).toBeUndefined();
  });

  it("applies to checks too, and runs even when riskCheck is disabled", async () => {
    await admin.addSafeNumber(NIGERIA, null);
    const p = f.pipeline([safeListStage(f.fraud)]);
    expect((await p.evaluate(checkRequest(f.service, NIGERIA))).ctx.trusted).toBe(true);
    expect((await p.evaluate(startRequest(f.service, NIGERIA, { riskCheck: false }))).ctx.trusted).toBe(true);
  });

  it("stores numbers in E.164, keeps one entry per number and updates its note", async () => {
    await admin.addSafeNumber(" +234 803 123 4567 ", "first");
    await admin.addSafeNumber(NIGERIA, "second");
    const list = await admin.listSafeNumbers();
    expect(list).toEqual([{ number: NIGERIA, note: "second", createdAt: f.clock.now() }]);
  });

  it("trusts every number of a 1,000-number range (Twilio's +…xxx form), and only those", async () => {
    const entry = await admin.addSafeNumber("+2348031234XXX", "QA range");
    expect(entry.number).toBe("+2348031234xxx");
    const p = f.pipeline([safeListStage(f.fraud), geoPermissionsStage(f.fraud)]);
    for (const to of ["+2348031234000", NIGERIA, "+2348031234999"]) expect((await p.evaluate(startRequest(f.service, to))).ctx.trusted).toBe(true);
    const outside = await p.evaluate(startRequest(f.service, "+2348031244567"));
    expect(outside.ctx.trusted).toBeUndefined();
    expect(outside.decision).toMatchObject({ code: "GEO_BLOCKED" });
    // The range and a single number are separate entries: removing one leaves the other.
    await admin.addSafeNumber(NIGERIA, null);
    expect(await admin.removeSafeNumber("+2348031234xxx")).toBe(true);
    expect((await p.evaluate(startRequest(f.service, NIGERIA))).ctx.trusted).toBe(true);
    expect((await p.evaluate(startRequest(f.service, "+2348031234000"))).ctx.trusted).toBeUndefined();
  });

  it.each([
    ["not a number", "abc"],
    ["a number without country code", "08031234567"],
    ["an impossible number", "+23480312"],
    ["a range shorter than 10 characters", "+23480xxx"],
    ["a range with other wildcards", "+2348031x3xxx"],
    ["a range of an unknown calling code", "+999803123xxx"],
  ])("refuses %s with INVALID_PARAMETER", async (_what, raw) => {
    await expect(admin.addSafeNumber(raw, null)).rejects.toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
  });
});
