import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FraudAdmin } from "../src/risk/fraud-admin.js";
import { DEFAULT_BLOCKED_COUNTRIES, NON_GEOGRAPHIC_COUNTRY, defaultGeoPermission } from "../src/risk/geo-defaults.js";
import { geoPermissionsStage } from "../src/risk/stages/geo-permissions.js";
import { fraudFixture, checkRequest, startRequest, type FraudFixture } from "./helpers/fraud-fixtures.js";

/** The numbers other test suites use; none of their countries may be blocked by default. */
const COMMON_TEST_NUMBERS: [string, string][] = [
  ["GB", "+447400123456"],
  ["US", "+12025550123"],
  ["FR", "+33612345678"],
  ["DE", "+4915123456789"],
  ["ES", "+34612345678"],
  ["BR", "+5511912345678"],
  ["IN", "+919812345678"],
  ["JP", "+819012345678"],
];

const DEFAULT_BLOCKED_NUMBERS: [string, string][] = [
  ["NG", "+2348031234567"],
  ["ID", "+6281234567890"],
  ["PK", "+923001234567"],
  ["AZ", "+994501234567"],
  ["001", "+881612345678"], // Iridium satellite: non-geographic
  ["001", "+882167890123"], // international network
];

describe("geo-permissions stage", () => {
  let f: FraudFixture;
  let admin: FraudAdmin;
  beforeEach(async () => {
    f = await fraudFixture();
    admin = new FraudAdmin({ store: f.fraud, services: f.services, detector: f.detector, clock: f.clock, stageNames: ["phone", "geo"] });
  });
  afterEach(async () => f.close());

  it("does not block by default any country the common test numbers use", () => {
    for (const [country] of COMMON_TEST_NUMBERS) expect(Object.keys(DEFAULT_BLOCKED_COUNTRIES)).not.toContain(country);
  });

  it.each(COMMON_TEST_NUMBERS)("lets a new service send to %s and leaves MONITOR on the context", async (country, to) => {
    const r = await f.pipeline([geoPermissionsStage(f.fraud)]).evaluate(startRequest(f.service, to));
    expect(r.ctx.phone?.country).toBe(country);
    expect(r.decision.action).toBe("allow");
    expect(r.ctx.geoPermission).toBe("MONITOR");
  });

  it.each(DEFAULT_BLOCKED_NUMBERS)("blocks a new service's sends to %s (%s) with 60605 until an admin opens it", async (country, to) => {
    const p = f.pipeline([geoPermissionsStage(f.fraud)]);
    for (const channel of ["SMS", "CALL"] as const) {
      const r = await p.evaluate(startRequest(f.service, to, { channel }));
      expect(r.decision).toMatchObject({ action: "block", code: "GEO_BLOCKED", reason: `geo permissions block ${channel} to ${country}` });
      expect(r.stage).toBe("geo");
    }
    await admin.setGeoPermissions(f.service.id, [{ country, channel: "SMS", permission: "MONITOR" }]);
    expect((await p.evaluate(startRequest(f.service, to, { channel: "SMS" }))).decision.action).toBe("allow");
    expect((await p.evaluate(startRequest(f.service, to, { channel: "CALL" }))).decision.action).toBe("block");
  });

  it("applies an admin's BLOCK per channel and per service", async () => {
    const other = await f.addService();
    await admin.setGeoPermissions(f.service.id, [{ country: "gb", channel: "CALL", permission: "BLOCK" }]);
    const p = f.pipeline([geoPermissionsStage(f.fraud)]);
    expect((await p.evaluate(startRequest(f.service, "+447400123456", { channel: "CALL" }))).decision).toMatchObject({ code: "GEO_BLOCKED" });
    expect((await p.evaluate(startRequest(f.service, "+447400123456", { channel: "SMS" }))).decision.action).toBe("allow");
    expect((await p.evaluate(startRequest(other, "+447400123456", { channel: "CALL" }))).decision.action).toBe("allow");
  });

  it("puts ALLOW on the context when the admin trusts the destination", async () => {
    await admin.setGeoPermissions(f.service.id, [{ country: "NG", channel: "SMS", permission: "ALLOW" }]);
    const r = await f.pipeline([geoPermissionsStage(f.fraud)]).evaluate(startRequest(f.service, "+2348031234567"));
    expect(r.decision.action).toBe("allow");
    expect(r.ctx.geoPermission).toBe("ALLOW");
  });

  it("does not look at checks (a check sends nothing)", async () => {
    const r = await f.pipeline([geoPermissionsStage(f.fraud)]).evaluate(checkRequest(f.service, "+2348031234567"));
    expect(r.decision.action).toBe("allow");
    expect(r.ctx.geoPermission).toBeUndefined();
  });

  it("lists the default blocks and the admin's choices, and resets countries to their defaults", async () => {
    const before = await admin.geoPermissions(f.service.id);
    expect(before).toHaveLength(Object.keys(DEFAULT_BLOCKED_COUNTRIES).length * 2);
    expect(before.every((e) => e.permission === "BLOCK" && e.source === "DEFAULT")).toBe(true);
    expect(before.map((e) => e.country)).toContain(NON_GEOGRAPHIC_COUNTRY);

    const after = await admin.setGeoPermissions(f.service.id, [
      { country: "NG", channel: "SMS", permission: "ALLOW" },
      { country: "FR", channel: "SMS", permission: "BLOCK" },
      { country: "FR", channel: "SMS", permission: "MONITOR" }, // a later entry for the same pair wins
    ]);
    expect(after.find((e) => e.country === "NG" && e.channel === "SMS")).toMatchObject({ permission: "ALLOW", source: "ADMIN" });
    expect(after.find((e) => e.country === "NG" && e.channel === "CALL")).toMatchObject({ permission: "BLOCK", source: "DEFAULT" });
    expect(after.find((e) => e.country === "FR")).toMatchObject({ permission: "MONITOR", source: "ADMIN" });

    const reset = await admin.resetGeoPermissions(f.service.id, ["NG"]);
    expect(reset.find((e) => e.country === "NG" && e.channel === "SMS")).toMatchObject({ permission: "BLOCK", source: "DEFAULT" });
    expect(reset.find((e) => e.country === "FR")).toMatchObject({ source: "ADMIN" });
    expect(await admin.resetGeoPermissions(f.service.id, null)).toEqual(before);
  });

  it.each([["XX"], ["GBR"], ["1"], [""]])("refuses the country code %j with INVALID_PARAMETER and changes nothing", async (country) => {
    await expect(
      admin.setGeoPermissions(f.service.id, [
        { country: "NG", channel: "SMS", permission: "ALLOW" },
        { country, channel: "SMS", permission: "ALLOW" },
      ]),
    ).rejects.toMatchObject({ code: "INVALID_PARAMETER" });
    expect(await f.fraud.getGeoPermission(f.service.id, "NG", "SMS")).toBeNull();
  });

  it("answers NOT_FOUND for an unknown service", async () => {
    await expect(admin.geoPermissions("VA00000000000000000000000000000000")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("blocks the same default list for voice as for SMS", () => {
    for (const c of Object.keys(DEFAULT_BLOCKED_COUNTRIES)) expect(defaultGeoPermission(c, "CALL")).toBe(defaultGeoPermission(c, "SMS"));
  });
});
