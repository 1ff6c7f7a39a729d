import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { failOnPageErrors, launchChromium, recordSockets, screenshot } from "./helpers/browser.js";
import { ADMIN_KEY, CHECK, START, createService, latestCode, ok, startServer, type TestServer } from "./helpers/harness.js";

/**
 * The admin dashboard in Chromium after a simulated SMS-pumping attack: its charts draw what the fraud
 * queries answer, the live feed shows events as they happen, and an unblock button lifts the block
 * the detector set, so the next send to that range goes out.
 * @see issue 12, browser scenario 4
 */
describe("the admin dashboard in Chromium", () => {
  let s: TestServer;
  let browser: Browser;
  let serviceId: string;
  const PUMPED = "+44740"; // the range the attack walks (the detector's prefix: calling code + 3 digits)

  beforeAll(async () => {
    [s, browser] = await Promise.all([startServer({ sweeper: false }), launchChromium()]);
    serviceId = await createService(s, { friendlyName: "Shop" });
    const start = (to: string) => s.gql<{ startVerification: { id: string } }>(START, { input: { serviceId, to, channel: "SMS" } });
    // Legitimate users in the US: sent and approved.
    for (const to of ["+12025550101", "+12025550102", "+12025550103"]) {
      ok(await start(to));
      ok(await s.gql(CHECK, { input: { serviceId, to, code: await latestCode(s, to) } }));
    }
    // The attack: sends to a UK mobile range nobody checks, far apart in the range, until the
    // pumping detector blocks the prefix; and sends to Nigeria, which the default geo permissions block.
    let blocked = 0;
    for (let i = 0; i < 40 && blocked < 5; i++) {
      const r = await start(`${PUMPED}0${String(100_000 + i * 19_391).padStart(6, "0")}`);
      if (r.errors?.[0]?.extensions.code === "PREFIX_BLOCKED") blocked++;
    }
    expect(blocked).toBe(5);
    for (const to of ["+2348012345678", "+2348023456789"]) expect((await start(to)).errors?.[0]?.extensions.code).toBe("GEO_BLOCKED");
    const blocks = ok(await s.gql<{ blockedPrefixes: { prefix: string; source: string }[] }>(`query($id: ID) { blockedPrefixes(serviceId: $id) { prefix source } }`, { id: serviceId }));
    expect(blocks.blockedPrefixes).toContainEqual({ prefix: PUMPED, source: "AUTO" });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it("asks for the admin key, then draws the attack: sends and blocks over time, by country and stage, conversion, money saved", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const errors = failOnPageErrors(page);
    const sockets = recordSockets(page);
    await page.goto(`${s.url}/admin`);
    expect(await page.isVisible("#dashboard")).toBe(false);
    await page.fill("#admin-key", ADMIN_KEY);
    await page.press("#admin-key", "Enter");
    await page.waitForSelector("#prefixes tbody tr[data-prefix]");

    // Tiles: the totals of the last 30 days.
    expect(Number((await page.textContent("#t-blocked"))!.replace(/,/g, ""))).toBeGreaterThanOrEqual(7);
    expect(await page.textContent("#t-saved")).toMatch(/^\$\d+\.\d\d$/);
    expect(await page.textContent("#t-saved")).not.toBe("$0.00");
    // Over time: 48 hourly and 30 daily buckets, with bars for this hour's sends and blocks.
    expect(await page.locator("#c-hour svg rect").count()).toBe(96);
    expect(await page.locator("#c-day svg rect").count()).toBe(60);
    expect(await page.locator("#c-hour svg rect[height]:not([height='0'])").count()).toBeGreaterThanOrEqual(2);
    // By country and stage, and conversion per country.
    expect(await page.locator("#c-country svg").innerHTML()).toMatch(/>GB<[\s\S]*>NG</);
    const stages = await page.locator("#c-stage svg").innerHTML();
    expect(stages).toContain(">prefix-guard<");
    expect(stages).toContain(">geo<");
    expect(await page.locator("#c-conversion svg").innerHTML()).toContain("100 % of 3"); // the US users all converted
    // Top blocked prefixes, with the block to lift.
    await page.waitForSelector(`#prefixes tr[data-prefix="${PUMPED}"] button[name="unblock"]`);

    // The live feed: a new event appears without a reload.
    await expect.poll(() => page.textContent("#feed-state")).toBe("Live.");
    await s.gql(START, { input: { serviceId, to: "+2348034567890", channel: "SMS" } });
    await page.waitForSelector("#feed li.RISK_BLOCKED");
    expect(await page.textContent("#feed li.RISK_BLOCKED")).toContain("geo 60605");
    expect(sockets.sent[0]).toBe(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${ADMIN_KEY}` } }));
    expect(errors).toEqual([]);
    await screenshot(page, "admin");
    await page.close();
  });

  it("lifts the detector's block with the unblock button, and the next send to that range goes out", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(`${s.url}/admin`);
    await page.fill("#admin-key", ADMIN_KEY);
    await page.click('button[name="connect"]');
    const button = page.locator(`#prefixes tr[data-prefix="${PUMPED}"] button[name="unblock"]`);
    await button.click();
    await expect.poll(() => page.textContent(`#prefixes tr[data-prefix="${PUMPED}"] td:last-child`)).toBe("not blocked");

    const blocks = ok(await s.gql<{ blockedPrefixes: { prefix: string }[] }>(`query($id: ID) { blockedPrefixes(serviceId: $id) { prefix } }`, { id: serviceId }));
    expect(blocks.blockedPrefixes.map((b) => b.prefix)).not.toContain(PUMPED);
    const again = await s.gql<{ startVerification: { status: string } }>(START, { input: { serviceId, to: `${PUMPED}0987654`, channel: "SMS" } });
    expect(again.errors).toBeUndefined();
    expect(again.data!.startVerification.status).toBe("PENDING");
    // The key stays in this tab only: a reload reconnects without asking again.
    await page.reload();
    await page.waitForSelector("#dashboard:not([hidden])");
    await page.close();
  });
});
