import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FraudAdmin } from "../src/risk/fraud-admin.js";
import { geoPermissionsStage } from "../src/risk/stages/geo-permissions.js";
import { leadingParts, prefixGuardStage } from "../src/risk/stages/prefix-guard.js";
import type { RiskPipeline } from "../src/risk/pipeline.js";
import { autoBlockRow, fraudFixture, startRequest, type FraudFixture } from "./helpers/fraud-fixtures.js";

const HOUR = 3_600_000;
const SENEGAL = "+221771234567"; // prefix +22177…
const UK = "+447400123456";

describe("prefix-guard stage", () => {
  let f: FraudFixture;
  let admin: FraudAdmin;
  let p: RiskPipeline;
  beforeEach(async () => {
    f = await fraudFixture();
    admin = new FraudAdmin({ store: f.fraud, services: f.services, detector: f.detector, clock: f.clock, stageNames: ["phone", "geo", "prefix-guard"] });
    p = f.pipeline([geoPermissionsStage(f.fraud), prefixGuardStage(f.fraud, f.detector)]);
  });
  afterEach(async () => f.close());

  it("lists every leading part of a number as a candidate prefix", () => {
    expect(leadingParts("+4474")).toEqual(["+4", "+44", "+447", "+4474"]);
  });

  it("blocks every service's sends under a global prefix with 60410, and nothing else", async () => {
    const other = await f.addService();
    await admin.blockPrefix({ prefix: "+44740", serviceId: null, reason: "rented range", expiresAt: null });
    for (const s of [f.service, other]) {
      const r = await p.evaluate(startRequest(s, UK));
      expect(r.decision).toMatchObject({ action: "block", code: "PREFIX_BLOCKED", reason: "prefix +44740 blocked (manual, global): rented range" });
      expect(r.stage).toBe("prefix-guard");
    }
    expect((await p.evaluate(startRequest(f.service, "+447500123456"))).decision.action).toBe("allow");
  });

  it("blocks a service's own prefix for that service only", async () => {
    const other = await f.addService();
    await admin.blockPrefix({ prefix: "+4474", serviceId: f.service.id, reason: "ours", expiresAt: null });
    expect((await p.evaluate(startRequest(f.service, UK))).decision).toMatchObject({ code: "PREFIX_BLOCKED" });
    expect((await p.evaluate(startRequest(other, UK))).decision.action).toBe("allow");
    expect((await admin.blockedPrefixes(other.id)).map((b) => b.prefix)).toEqual([]);
    expect((await admin.blockedPrefixes(f.service.id)).map((b) => b.prefix)).toEqual(["+4474"]);
  });

  it("lets sends through again once a block's expiry passes", async () => {
    await admin.blockPrefix({ prefix: "+44", serviceId: null, reason: "until lunch", expiresAt: f.clock.now() + HOUR });
    expect((await p.evaluate(startRequest(f.service, UK))).decision.action).toBe("block");
    f.clock.advance(HOUR);
    expect((await p.evaluate(startRequest(f.service, UK))).decision.action).toBe("allow");
    expect(await admin.blockedPrefixes(null)).toEqual([]);
  });

  it("lifts a block with unblockPrefix, which answers false when there was none", async () => {
    await admin.blockPrefix({ prefix: "+44740", serviceId: f.service.id, reason: "x", expiresAt: null });
    expect(await admin.unblockPrefix("+44740", null)).toBe(false); // the global entry does not exist
    expect(await admin.unblockPrefix("+44740", f.service.id)).toBe(true);
    expect((await p.evaluate(startRequest(f.service, UK))).decision.action).toBe("allow");
  });

  it("skips an AUTO block for a destination the admin set to ALLOW, but never a MANUAL one", async () => {
    await f.fraud.putAutoPrefixBlock(autoBlockRow({ serviceId: f.service.id, prefix: "+22177", createdAt: f.clock.now(), expiresAt: f.clock.now() + HOUR }));
    await admin.setGeoPermissions(f.service.id, [{ country: "SN", channel: "SMS", permission: "MONITOR" }]);
    expect((await p.evaluate(startRequest(f.service, SENEGAL))).decision).toMatchObject({ code: "PREFIX_BLOCKED" });
    await admin.setGeoPermissions(f.service.id, [{ country: "SN", channel: "SMS", permission: "ALLOW" }]);
    expect((await p.evaluate(startRequest(f.service, SENEGAL))).decision.action).toBe("allow");
    await admin.blockPrefix({ prefix: "+221", serviceId: null, reason: "admin says no", expiresAt: null });
    expect((await p.evaluate(startRequest(f.service, SENEGAL))).decision).toMatchObject({ code: "PREFIX_BLOCKED", reason: expect.stringContaining("manual") });
  });

  it("never lets the detector replace an admin's block, but an admin's block replaces the detector's", async () => {
    const now = f.clock.now();
    const manual = await admin.blockPrefix({ prefix: "+44740", serviceId: f.service.id, reason: "admin", expiresAt: null });
    const auto = autoBlockRow({ serviceId: f.service.id, prefix: "+44740", createdAt: now, expiresAt: now + HOUR });
    expect(await f.fraud.putAutoPrefixBlock(auto)).toBeNull();
    expect(await admin.blockedPrefixes(f.service.id)).toEqual([manual]);

    await admin.unblockPrefix("+44740", f.service.id);
    expect(await f.fraud.putAutoPrefixBlock(auto)).toMatchObject({ source: "AUTO" });
    const again = await admin.blockPrefix({ prefix: "+44740", serviceId: f.service.id, reason: "admin again", expiresAt: null });
    expect(again).toMatchObject({ source: "MANUAL", reason: "admin again", expiresAt: null });
  });

  it.each([["44740"], ["+"], ["+0123"], ["+1234567890123456"], ["+44 740"]])("refuses the prefix %j with INVALID_PARAMETER", async (prefix) => {
    await expect(admin.blockPrefix({ prefix, serviceId: null, reason: "r", expiresAt: null })).rejects.toMatchObject({ code: "INVALID_PARAMETER" });
  });

  it("refuses an expiry in the past and an empty reason", async () => {
    await expect(admin.blockPrefix({ prefix: "+44", serviceId: null, reason: "r", expiresAt: f.clock.now() })).rejects.toMatchObject({ code: "INVALID_PARAMETER" });
    await expect(admin.blockPrefix({ prefix: "+44", serviceId: null, reason: "  ", expiresAt: null })).rejects.toMatchObject({ code: "INVALID_PARAMETER" });
  });

  it("skips the stage when riskCheck is disabled", async () => {
    await admin.blockPrefix({ prefix: "+44", serviceId: null, reason: "r", expiresAt: null });
    expect((await p.evaluate(startRequest(f.service, UK, { riskCheck: false }))).decision.action).toBe("allow");
  });
});
