import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { AppError } from "../src/errors.js";
import { DEFAULT_SMS_USD, PriceTable } from "../src/risk/prices.js";
import { SpendGuard, utcDay } from "../src/risk/stages/spend-guard.js";
import type { Decision, RiskContext } from "../src/risk/types.js";
import { chargeSpend, SqlLimitsStore } from "../src/store/queries/limits.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";
import { CommitRefused, type Channel, type ServiceRow } from "../src/store/types.js";
import { stageContext, startRequest } from "./helpers/fraud-fixtures.js";
import { decisionRow, serviceRow } from "./helpers/store-fixtures.js";
import { ConversionHistory } from "../src/risk/baselines.js";
import { SqlStatsStore } from "../src/store/queries/stats.js";
import { SqlStore } from "../src/store/queries/store.js";
import { createLogger } from "../src/log.js";
import type { VerificationEvent } from "../src/events/types.js";

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

/** A start as the spend stage sees it; the destination at ALLOW (the protected share) unless told otherwise. */
function ctx(svc: ServiceRow, to = "+447400123456", channel: Channel = "SMS", geo: RiskContext["geoPermission"] = "ALLOW"): RiskContext {
  return { ...stageContext(startRequest(svc, to, { channel, ip: null, role: "CLIENT" }), clock.now()), geoPermission: geo };
}

/**
 * The stage as a start meets it: decided, and the reservation it returns committed (as the start's
 * commit does); a commit the budget no longer fits is decided again, as RiskPipeline.decide does.
 */
async function run(g: SpendGuard, c: RiskContext): Promise<Decision> {
  for (let retry = 0; ; retry++) {
    c.retry = retry;
    const d = await g.evaluate(c);
    const spend = d.action === "allow" ? d.writes?.spend : undefined;
    if (!spend) return d.action === "allow" ? { action: "allow" } : d;
    try {
      await store.transaction(() => chargeSpend(spend, c.now));
      return { action: "allow" };
    } catch (err) {
      if (!(err instanceof CommitRefused)) throw err;
    }
  }
}

describe("spend guard", () => {

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
    expect(await limits.getSpend(svc.id, "2026-03-10")).toMatchObject({ usdMicros: 80_000, sends: 2, cappedUsdMicros: 0, cappedSends: 0 });
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

  it("charges, through the observer, a send it let through in shadow mode without reserving (to its share)", async () => {
    const guard = new SpendGuard({ prices, spend: limits });
    const svc = service({ dailyBudgetCents: 0, shadowStages: ["spend"] });
    const c = ctx(svc, "+447400123456", "SMS", "MONITOR");
    expect((await run(guard, c)).action).toBe("block");
    await guard.observe({ type: "sent", ctx: c, verificationId: "VE1" });
    expect(await limits.getSpend(svc.id, utcDay(clock.now()))).toMatchObject({ usdMicros: 50_000, sends: 1, cappedUsdMicros: 50_000, cappedSends: 1 });
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

describe("spend guard: budget shares", () => {
  const UZ = "+998901234567"; // $0.30, a MONITOR destination the service never served
  const DE = "+4915123456789"; // $0.09

  /** A guard over the real conversion history of the same database. */
  function guardWithHistory(over: Partial<ConstructorParameters<typeof SpendGuard>[0]> = {}) {
    const history = new ConversionHistory({ stats: new SqlStatsStore(store), clock });
    return { guard: new SpendGuard({ prices, spend: limits, history, ...over }), history };
  }

  it("gives MONITOR destinations without a healthy history 20% of the budget, and refuses only them once it is gone", async () => {
    const lines: string[] = [];
    const events: VerificationEvent[] = [];
    const { guard } = guardWithHistory({ log: createLogger("warn", (l) => lines.push(l)), events: { publish: (e) => void events.push(e) } });
    const svc = service({ dailyBudgetCents: 300 }); // $3: the capped share is $0.60, two Uzbek sends
    expect((await run(guard, ctx(svc, UZ, "SMS", "MONITOR"))).action).toBe("allow");
    expect((await run(guard, ctx(svc, UZ, "SMS", "MONITOR"))).action).toBe("allow");
    const refused = await run(guard, ctx(svc, UZ, "SMS", "MONITOR"));
    expect(refused).toMatchObject({ action: "block", code: "SPEND_LIMIT_REACHED", retryAfterSeconds: 12 * 3600 });
    expect(refused.action === "block" && refused.reason).toBe(
      "capped share (20% of $3.00 = $0.60) reached for MONITOR, new and unconverted destinations: $0.60 spent there, this send to UZ $0.30",
    );
    // Another unconverted destination shares the cap; a protected one still has the rest of the budget.
    expect((await run(guard, ctx(svc, DE, "SMS", "MONITOR"))).action).toBe("block");
    for (let i = 0; i < 26; i++) expect((await run(guard, ctx(svc, DE, "SMS", "ALLOW"))).action).toBe("allow");
    expect((await run(guard, ctx(svc, DE, "SMS", "ALLOW"))).action).toBe("block"); // $0.60 + 27 × $0.09 > $3
    expect(await limits.getSpend(svc.id, utcDay(clock.now()))).toEqual({
      serviceId: svc.id,
      day: utcDay(clock.now()),
      usdMicros: 600_000 + 26 * 90_000,
      sends: 28,
      cappedUsdMicros: 600_000,
      cappedSends: 2,
    });
    // Said once per share and day: a log line and a BUDGET_EXHAUSTED event each.
    expect(lines.filter((l) => l.includes("capped share (20%) of the daily budget used up"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("daily budget used up: every destination refused"))).toHaveLength(1);
    expect(events.map((e) => [e.type, e.budget?.share, e.budget?.limitUsd])).toEqual([
      ["BUDGET_EXHAUSTED", "CAPPED", 0.6],
      ["BUDGET_EXHAUSTED", "ALL", 3],
    ]);
  });

  it("protects countries where the service's users convert, and trusted numbers", async () => {
    const { guard } = guardWithHistory();
    const db = new SqlStore(store);
    const svc = service({ dailyBudgetCents: 100, cappedSharePercent: 0 }); // nothing for the capped share
    await db.insertService(svc);
    expect((await run(guard, ctx(svc, DE, "SMS", "MONITOR"))).action).toBe("block");
    // Yesterday, 5 of 6 German users converted: a healthy history.
    for (let i = 0; i < 6; i++) await db.insertDecision(decisionRow(svc.id, { country: "DE", converted: i > 0, createdAt: clock.now() - 20 * 3600_000 }));
    const { guard: fresh } = guardWithHistory();
    expect(await fresh.shareOf(ctx(svc, DE, "SMS", "MONITOR"))).toBe("PROTECTED");
    expect((await run(fresh, ctx(svc, DE, "SMS", "MONITOR"))).action).toBe("allow");
    expect(await fresh.shareOf(ctx(svc, UZ, "SMS", "MONITOR"))).toBe("CAPPED");
    expect(await fresh.shareOf({ ...ctx(svc, UZ, "SMS", "MONITOR"), trusted: true })).toBe("PROTECTED");
    expect(await fresh.shareOf({ ...ctx(svc, UZ, "SMS", "MONITOR"), riskCheck: false })).toBe("PROTECTED");
    // A history that converts too little does not earn it: 2 of 6.
    for (let i = 0; i < 6; i++) await db.insertDecision(decisionRow(svc.id, { country: "FR", converted: i < 2, createdAt: clock.now() - 20 * 3600_000 }));
    const { guard: again } = guardWithHistory();
    expect(await again.shareOf(ctx(svc, "+33612345678", "SMS", "MONITOR"))).toBe("CAPPED");
  });

  it("uses the configured default share, and a service's own", async () => {
    const { guard } = guardWithHistory({ defaultCappedSharePercent: 50 });
    const svc = service({ dailyBudgetCents: 60 }); // capped $0.30 at 50%: one Uzbek send
    expect((await run(guard, ctx(svc, UZ, "SMS", "MONITOR"))).action).toBe("allow");
    expect((await run(guard, ctx(svc, UZ, "SMS", "MONITOR"))).action).toBe("block");
    const own = service({ dailyBudgetCents: 60, cappedSharePercent: 100 }, "VA00000000000000000000000000000003");
    expect((await run(guard, ctx(own, UZ, "SMS", "MONITOR"))).action).toBe("allow");
    expect((await run(guard, ctx(own, UZ, "SMS", "MONITOR"))).action).toBe("allow");
    expect((await run(guard, ctx(own, UZ, "SMS", "MONITOR"))).action).toBe("block");
  });
});
