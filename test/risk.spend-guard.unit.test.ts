import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { AppError } from "../src/errors.js";
import { DEFAULT_SMS_USD, PriceTable } from "../src/risk/prices.js";
import { SpendGuard, utcDay } from "../src/risk/stages/spend-guard.js";
import type { Decision, RiskContext } from "../src/risk/types.js";
import { SqlLimitsStore } from "../src/store/queries/limits.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";
import type { Channel, ServiceRow } from "../src/store/types.js";
import { stageContext, startRequest } from "./helpers/fraud-fixtures.js";
import { serviceRow } from "./helpers/store-fixtures.js";

let dir: string;
let store: SqliteDb;
let limits: SqlLimitsStore;
let prices: PriceTable;
let clock: ManualClock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vg-spend-"));
  store = new SqliteDb(join(dir, "verify.db"));
  limits = new SqlLimitsStore(store);
  prices = new PriceTable(limits);
  clock = new ManualClock(Date.UTC(2026, 2, 10, 12, 0, 0));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("price table", () => {
  it("ships a default per country and channel", async () => {
    expect(await prices.price("US", "SMS")).toBe(0.0083);
    expect(await prices.price("GB", "SMS")).toBe(DEFAULT_SMS_USD.GB);
    expect(await prices.price("US", "CALL")).toBe(0.014);
    expect(await prices.price("GB", "CALL")).toBeCloseTo(2 * DEFAULT_SMS_USD.GB!, 6);
  });

  it.each([
    ["a country without a default", "AQ"],
    ["a non-geographic number (no country)", null],
    ["something that is not a country code", "XYZ"],
  ])("prices %s at the fallback", async (_name, country) => {
    expect(await prices.price(country, "SMS")).toBe(0.1);
    expect(await prices.price(country, "CALL")).toBe(0.25);
  });

  it("uses an admin override, and the default again after a reset", async () => {
    await prices.set("gb", "SMS", 0.031, clock.now());
    expect(await prices.price("GB", "SMS")).toBe(0.031);
    expect(await prices.price("GB", "CALL")).not.toBe(0.031);
    const reset = await prices.reset("GB", "SMS");
    expect(reset).toMatchObject({ country: "GB", usd: DEFAULT_SMS_USD.GB, source: "DEFAULT" });
    expect(await prices.price("GB", "SMS")).toBe(DEFAULT_SMS_USD.GB);
  });

  it("lets an admin change the fallback for every unlisted country", async () => {
    await prices.set("*", "SMS", 0.5, clock.now());
    expect(await prices.price("AQ", "SMS")).toBe(0.5);
    expect(await prices.price("US", "SMS")).toBe(0.0083);
  });

  it("lists defaults and overrides, and a snapshot prices synchronously from the same data", async () => {
    await prices.set("FR", "SMS", 0.07, clock.now());
    await prices.set("AQ", "CALL", 1.5, clock.now());
    const list = await prices.list();
    expect(list).toContainEqual({ country: "FR", channel: "SMS", usd: 0.07, source: "OVERRIDE" });
    expect(list).toContainEqual({ country: "AQ", channel: "CALL", usd: 1.5, source: "OVERRIDE" });
    expect(list).toContainEqual({ country: "US", channel: "SMS", usd: 0.0083, source: "DEFAULT" });
    const snap = await prices.snapshot();
    expect(snap.price("FR", "SMS")).toBe(0.07);
    expect(snap.price("AQ", "CALL")).toBe(1.5);
    expect(snap.price("AQ", "SMS")).toBe(0.1);
    expect(snap.price(null, "SMS")).toBe(0.1);
  });

  it.each([
    ["a country that is not alpha-2", "GBR", 0.1],
    ["a negative price", "GB", -1],
    ["an absurd price", "GB", 1000],
  ])("refuses %s with INVALID_PARAMETER", async (_name, country, usd) => {
    const err = await prices.set(country, "SMS", usd, clock.now()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("INVALID_PARAMETER");
  });
});

const service = (riskSettings: ServiceRow["riskSettings"] = {}, id = "VA00000000000000000000000000000001"): ServiceRow =>
  serviceRow({ id, riskSettings, createdAt: 0, updatedAt: 0 });

function ctx(svc: ServiceRow, to = "+447400123456", channel: Channel = "SMS"): RiskContext {
  return stageContext(startRequest(svc, to, { channel, ip: null, role: "CLIENT" }), clock.now());
}

describe("spend guard", () => {
  const run = (g: SpendGuard, c: RiskContext) => g.evaluate(c) as Promise<Decision>;

  it("lets sends through while they fit the day's budget and refuses the one that would pass it", async () => {
    await prices.set("GB", "SMS", 0.04, clock.now());
    const guard = new SpendGuard({ prices, spend: limits });
    const svc = service({ dailyBudgetCents: 10 }); // $0.10: two sends of $0.04 fit, a third does not
    expect(await run(guard, ctx(svc))).toEqual({ action: "allow" });
    expect(await run(guard, ctx(svc))).toEqual({ action: "allow" });
    const d = await run(guard, ctx(svc));
    expect(d).toMatchObject({ action: "block", code: "SPEND_LIMIT_REACHED" });
    // Refused until midnight UTC: 12 hours from noon.
    expect(d.action === "block" && d.retryAfterSeconds).toBe(12 * 3600);
    expect(await limits.getSpend(svc.id, "2026-03-10")).toMatchObject({ usdMicros: 80_000, sends: 2 });
  });

  it("starts a fresh budget on the next UTC day", async () => {
    const guard = new SpendGuard({ prices, spend: limits });
    const svc = service({ dailyBudgetCents: 1 }); // $0.01: one US send ($0.0083)
    expect((await run(guard, ctx(svc, "+14155552671"))).action).toBe("allow");
    expect((await run(guard, ctx(svc, "+14155552671"))).action).toBe("block");
    clock.advance(12 * 3600_000);
    expect(utcDay(clock.now())).toBe("2026-03-11");
    expect((await run(guard, ctx(svc, "+14155552671"))).action).toBe("allow");
  });

  it("uses the configured default for services without a budget, and a budget of 0 stops every send", async () => {
    const guard = new SpendGuard({ prices, spend: limits, defaultBudgetCents: 5 });
    const svc = service();
    expect((await run(guard, ctx(svc))).action).toBe("allow"); // GB $0.05 fits $0.05
    expect((await run(guard, ctx(svc))).action).toBe("block");
    expect((await run(guard, ctx(service({ dailyBudgetCents: 0 }, "VA00000000000000000000000000000002")))).action).toBe("block");
  });

  it("prices a call to the same number at the CALL price", async () => {
    const guard = new SpendGuard({ prices, spend: limits });
    const svc = service();
    await run(guard, ctx(svc, "+14155552671", "CALL"));
    expect((await limits.getSpend(svc.id, utcDay(clock.now()))).usdMicros).toBe(14_000);
  });

  it("never lets concurrent sends overshoot the budget together", async () => {
    await prices.set("GB", "SMS", 0.01, clock.now());
    const guard = new SpendGuard({ prices, spend: limits });
    const svc = service({ dailyBudgetCents: 5 });
    const ds = await Promise.all(Array.from({ length: 25 }, () => run(guard, ctx(svc))));
    expect(ds.filter((d) => d.action === "allow")).toHaveLength(5);
    expect((await limits.getSpend(svc.id, utcDay(clock.now()))).usdMicros).toBe(50_000);
  });

  it("charges a send once: reserved by the stage, not again by the observer", async () => {
    const guard = new SpendGuard({ prices, spend: limits });
    const svc = service();
    const c = ctx(svc);
    await run(guard, c);
    await guard.observe({ type: "sent", ctx: c, verificationId: "VE1" });
    expect(await limits.getSpend(svc.id, utcDay(clock.now()))).toMatchObject({ usdMicros: 50_000, sends: 1 });
  });

  it("charges, through the observer, a send it let through in shadow mode without reserving", async () => {
    const guard = new SpendGuard({ prices, spend: limits });
    const svc = service({ dailyBudgetCents: 0, shadowStages: ["spend"] });
    const c = ctx(svc);
    expect((await run(guard, c)).action).toBe("block"); // the runner records this as shadow and goes on
    await guard.observe({ type: "sent", ctx: c, verificationId: "VE1" });
    expect(await limits.getSpend(svc.id, utcDay(clock.now()))).toMatchObject({ usdMicros: 50_000, sends: 1 });
  });
});
