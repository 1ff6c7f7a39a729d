import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerificationEvent } from "../src/events/types.js";
import { codesSent, createClientKey, createService, errorOf, freshMobile, ok, queryDb, START, startServer, type TestServer } from "./helpers/harness.js";

const PRICES = `{ prices { country channel usd source } }`;
const SET_PRICE = `mutation($country: String!, $channel: Channel!, $usd: Float!) { setPrice(country: $country, channel: $channel, usd: $usd) { country channel usd source } }`;
const RESET_PRICE = `mutation($country: String!, $channel: Channel!) { resetPrice(country: $country, channel: $channel) { country channel usd source } }`;
const SET_BUDGET = `mutation($serviceId: ID!, $cents: Int) { setDailyBudget(serviceId: $serviceId, cents: $cents) { day spentUsd sends budgetUsd } }`;
const SPEND = `query($serviceId: ID!) { serviceSpend(serviceId: $serviceId) { day spentUsd sends budgetUsd cappedSharePercent shares { share spentUsd sends limitUsd } } }`;
const SET_GEO = `mutation($serviceId: ID!, $permissions: [GeoPermissionInput!]!) { setGeoPermissions(serviceId: $serviceId, permissions: $permissions) { country } }`;
const SET_SHARE = `mutation($serviceId: ID!, $percent: Int) { setCappedShare(serviceId: $serviceId, percent: $percent) { cappedSharePercent shares { share limitUsd } } }`;
const STATS_SPEND = `query($serviceId: ID, $from: DateTimeISO!, $until: DateTimeISO!) { fraudStats(serviceId: $serviceId, from: $from, until: $until) { spend { share spentUsd sends limitUsd } } }`;

interface PriceView {
  country: string;
  channel: string;
  usd: number;
  source: string;
}

describe("spend guard and price table over HTTP", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it("lists the shipped prices, and applies and drops an admin override", async () => {
    const prices = ok(await s.gql<{ prices: PriceView[] }>(PRICES)).prices;
    expect(prices).toContainEqual({ country: "US", channel: "SMS", usd: 0.0083, source: "DEFAULT" });
    expect(prices).toContainEqual({ country: "*", channel: "SMS", usd: 0.1, source: "DEFAULT" });
    expect(ok(await s.gql<{ setPrice: PriceView }>(SET_PRICE, { country: "de", channel: "SMS", usd: 0.07 })).setPrice).toEqual({
      country: "DE",
      channel: "SMS",
      usd: 0.07,
      source: "OVERRIDE",
    });
    expect(ok(await s.gql<{ prices: PriceView[] }>(PRICES)).prices).toContainEqual({ country: "DE", channel: "SMS", usd: 0.07, source: "OVERRIDE" });
    const reset = ok(await s.gql<{ resetPrice: PriceView }>(RESET_PRICE, { country: "DE", channel: "SMS" })).resetPrice;
    expect(reset).toMatchObject({ country: "DE", source: "DEFAULT" });
    expect(reset.usd).not.toBe(0.07);
    expect(errorOf(await s.gql(SET_PRICE, { country: "Germany", channel: "SMS", usd: 0.07 }))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
  });

  it("refuses the send past the daily budget with 60606 only, sends nothing, creates nothing, and publishes RISK_BLOCKED", async () => {
    const serviceId = await createService(s);
    // GB at ALLOW: its sends draw on the whole budget (the capped share has its own test below).
    ok(await s.gql(SET_GEO, { serviceId, permissions: [{ country: "GB", channel: "SMS", permission: "ALLOW" }] }));
    ok(await s.gql(SET_PRICE, { country: "GB", channel: "SMS", usd: 0.02 }));
    const budget = ok(await s.gql<{ setDailyBudget: { budgetUsd: number; sends: number } }>(SET_BUDGET, { serviceId, cents: 5 })).setDailyBudget;
    expect(budget).toMatchObject({ budgetUsd: 0.05, sends: 0 });

    const events = s.app.pubSub.subscribe("service", serviceId);
    const iterator = events[Symbol.asyncIterator]();
    const blockedEvent = (async () => {
      for (;;) {
        const { value } = (await iterator.next()) as { value: VerificationEvent };
        if (value.type === "RISK_BLOCKED") return value;
      }
    })();

    ok(await s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }));
    ok(await s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }));
    const third = freshMobile();
    const r = await s.gql(START, { input: { serviceId, to: third, channel: "SMS" } });
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]!.message).toBe("The service's daily spend budget for verifications is used up");
    expect(r.errors![0]!.extensions).toEqual({ code: "SPEND_LIMIT_REACHED", errorCode: 60606, retryAfterSeconds: expect.any(Number) });

    expect(await blockedEvent).toMatchObject({ type: "RISK_BLOCKED", serviceId, stage: "spend", errorCode: 60606, verificationId: null });
    await iterator.return?.();
    expect(await codesSent(s, third)).toEqual([]);
    expect(queryDb(s, "select id from verifications where to_number = ?", third)).toEqual([]);
    expect(ok(await s.gql<{ serviceSpend: unknown }>(SPEND, { serviceId })).serviceSpend).toMatchObject({ spentUsd: 0.04, sends: 2, budgetUsd: 0.05 });
    await s.gql(RESET_PRICE, { country: "GB", channel: "SMS" });
  });

  it("keeps an attack on unconverted destinations to the capped share: the rest of the budget still serves the protected countries", async () => {
    const serviceId = await createService(s);
    ok(await s.gql(SET_BUDGET, { serviceId, cents: 300 })); // $3, of which 20 % ($0.60) for the capped share
    ok(await s.gql(SET_GEO, { serviceId, permissions: [{ country: "GB", channel: "SMS", permission: "ALLOW" }] }));
    const events = s.app.pubSub.subscribe("service", serviceId);
    const iterator = events[Symbol.asyncIterator]();
    const exhausted = (async () => {
      for (;;) {
        const { value } = (await iterator.next()) as { value: VerificationEvent };
        if (value.type === "BUDGET_EXHAUSTED") return value;
      }
    })();
    // Uzbek numbers ($0.30, MONITOR, never converted): two fit the capped share, the third is refused.
    const uz = ["+998901234501", "+998911234502", "+998931234503"];
    ok(await s.gql(START, { input: { serviceId, to: uz[0], channel: "SMS" } }));
    ok(await s.gql(START, { input: { serviceId, to: uz[1], channel: "SMS" } }));
    expect(errorOf(await s.gql(START, { input: { serviceId, to: uz[2], channel: "SMS" } }))).toMatchObject({ code: "SPEND_LIMIT_REACHED", errorCode: 60606 });
    expect(await exhausted).toMatchObject({ type: "BUDGET_EXHAUSTED", serviceId, country: "UZ", budget: { share: "CAPPED", spentUsd: 0.6, limitUsd: 0.6 } });
    await iterator.return?.();
    // British users (ALLOW: protected) still get their codes.
    for (let i = 0; i < 3; i++) ok(await s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }));
    const spend = ok(await s.gql<{ serviceSpend: { shares: unknown[]; cappedSharePercent: number; spentUsd: number } }>(SPEND, { serviceId })).serviceSpend;
    expect(spend.cappedSharePercent).toBe(20);
    expect(spend.shares).toEqual([
      { share: "PROTECTED", spentUsd: 0.15, sends: 3, limitUsd: 3 },
      { share: "CAPPED", spentUsd: 0.6, sends: 2, limitUsd: 0.6 },
    ]);
    // The same split in the fraud statistics, over the days of a range.
    const day = Date.parse(`${ok(await s.gql<{ serviceSpend: { day: string } }>(SPEND, { serviceId })).serviceSpend.day}T00:00:00Z`);
    const stats = ok(await s.gql<{ fraudStats: { spend: unknown[] } }>(STATS_SPEND, { serviceId, from: new Date(day).toISOString(), until: new Date(day + 86_400_000).toISOString() }));
    expect(stats.fraudStats.spend).toEqual([
      { share: "PROTECTED", spentUsd: 0.15, sends: 3, limitUsd: null },
      { share: "CAPPED", spentUsd: 0.6, sends: 2, limitUsd: null },
    ]);
    // A larger share lets the capped destinations send again; 0 closes them; null is the default.
    expect(ok(await s.gql<{ setCappedShare: { cappedSharePercent: number } }>(SET_SHARE, { serviceId, percent: 50 })).setCappedShare.cappedSharePercent).toBe(50);
    ok(await s.gql(START, { input: { serviceId, to: uz[2], channel: "SMS" } }));
    expect(ok(await s.gql<{ setCappedShare: { cappedSharePercent: number } }>(SET_SHARE, { serviceId, percent: null })).setCappedShare.cappedSharePercent).toBe(20);
    expect(errorOf(await s.gql(SET_SHARE, { serviceId, percent: 101 }))).toMatchObject({ code: "INVALID_PARAMETER" });
  });

  it("returns a service to the default budget when the admin sets null", async () => {
    const serviceId = await createService(s);
    ok(await s.gql(SET_BUDGET, { serviceId, cents: 0 }));
    expect(errorOf(await s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }))).toMatchObject({ code: "SPEND_LIMIT_REACHED" });
    const back = ok(await s.gql<{ setDailyBudget: { budgetUsd: number } }>(SET_BUDGET, { serviceId, cents: null })).setDailyBudget;
    expect(back.budgetUsd).toBe(50);
    ok(await s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }));
  });

  it("keeps prices, budgets and spend away from client keys", async () => {
    const serviceId = await createService(s);
    const { secret } = await createClientKey(s, serviceId);
    for (const [q, v] of [
      [PRICES, {}],
      [SET_PRICE, { country: "GB", channel: "SMS", usd: 0 }],
      [SET_BUDGET, { serviceId, cents: 1_000_000 }],
      [SET_SHARE, { serviceId, percent: 100 }],
      [SPEND, { serviceId }],
    ] as const) {
      expect(errorOf(await s.gql(q, v, secret))).toMatchObject({ code: "FORBIDDEN", errorCode: 20403 });
    }
  });
});
