import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { failOnPageErrors, launchChromium, recordSockets, screenshot } from "./helpers/browser.js";
import { ok, startServer, type TestServer } from "./helpers/harness.js";

/**
 * The demo sign-up page (/demo) in Chromium: a person's whole sign-up by keyboard, the status arriving
 * over the WebSocket, wrong codes up to the attempt limit, and the errors a person reads.
 * @see issue 12, browser scenarios 1 and 2
 */
describe("the demo sign-up page in Chromium", () => {
  let s: TestServer;
  let browser: Browser;
  const numbers = ["07400 310001", "07400 320002", "07400 330003"];
  const e164 = (national: string) => "+44" + national.replace(/\D/g, "").slice(1);

  beforeAll(async () => {
    [s, browser] = await Promise.all([startServer({ env: { DEMO_PAGE: "on" }, sweeper: false }), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  async function open(): Promise<{ page: Page; errors: string[]; sockets: ReturnType<typeof recordSockets> }> {
    const page = await browser.newPage({ viewport: { width: 720, height: 1000 } });
    const errors = failOnPageErrors(page);
    const sockets = recordSockets(page);
    await page.goto(`${s.url}/demo`, { waitUntil: "load" });
    return { page, errors, sockets };
  }

  /** The code the development outbox panel shows. */
  async function outboxCode(page: Page): Promise<string> {
    const panel = page.locator("#outbox pre");
    await panel.waitFor({ state: "visible" });
    await expect.poll(() => panel.textContent()).toMatch(/\d{6}/);
    return /(\d{6})/.exec((await panel.textContent()) ?? "")![1]!;
  }

  const status = (page: Page) => page.locator("[data-status]").getAttribute("data-status");
  /** The name of the focused control. */
  const focused = (page: Page) => page.locator(":focus").getAttribute("name");

  it("signs up from start to APPROVED by keyboard alone, the status arriving over a WebSocket without a reload", async () => {
    const { page, errors, sockets } = await open();
    await page.evaluate("window.loadedOnce = true"); // gone if the page reloads
    await page.selectOption('select[name="country"]', "GB");
    await page.focus('input[name="phone"]');
    await page.keyboard.type(numbers[0]!);
    // Tab through the consent notice's two links to the checkbox, tick it, on to "Send code".
    for (let i = 0; i < 3; i++) await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("consent");
    await page.keyboard.press("Space");
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("send");
    await page.keyboard.press("Enter");

    await page.waitForSelector('[data-status="PENDING"]');
    expect(await focused(page)).toBe("code"); // focus moved on
    const code = await outboxCode(page);
    await page.keyboard.type(code);
    await page.keyboard.press("Enter");
    await page.waitForSelector('[data-status="APPROVED"]');
    await page.waitForSelector('[data-step="verified"].done');

    expect(sockets.urls).toEqual([`${s.wsUrl}`]);
    expect(sockets.sent[0]).toMatch(/^\{"type":"connection_init","payload":\{"authorization":"Bearer vg_pk_/);
    expect(sockets.received.some((f) => f.includes('"type":"APPROVED"') && f.includes('"status":"APPROVED"'))).toBe(true);
    expect(await page.evaluate("window.loadedOnce")).toBe(true);
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(1);
    expect(await page.textContent("#status-text")).toBe("Your number is verified. Welcome!");
    expect(errors).toEqual([]);

    // The consent the page showed was recorded with the start: version, time, this browser, its IP.
    const ua = (await page.evaluate("navigator.userAgent")) as string;
    const records = ok(await s.gql<{ consentRecords: { records: { textVersion: string; userAgent: string; ip: string; verificationId: string }[] } }>(
      `query($to: String) { consentRecords(to: $to) { records { textVersion userAgent ip verificationId } } }`,
      { to: e164(numbers[0]!) },
    )).consentRecords.records;
    expect(records).toEqual([{ textVersion: "demo-2026-01", userAgent: ua, ip: "127.0.0.1", verificationId: expect.stringMatching(/^VE/) }]);
    await screenshot(page, "demo");
    await page.close();
  });

  it("keeps a wrong code PENDING with a readable message, and ends at MAX_ATTEMPTS_REACHED after the fifth", async () => {
    const { page, errors } = await open();
    await page.selectOption('select[name="country"]', "GB");
    await page.fill('input[name="phone"]', numbers[1]!);
    await page.check('input[name="consent"]');
    await page.click('button[name="send"]');
    await page.waitForSelector('[data-status="PENDING"]');
    const right = await outboxCode(page);
    const wrong = right === "000000" ? "111111" : "000000";

    await page.fill('input[name="code"]', wrong);
    await page.click('button[name="verify"]');
    await expect.poll(() => page.textContent("#error")).not.toBe("");
    expect(await page.textContent("#error")).toBe("That code is not right. Check the SMS and try again.");
    expect(await status(page)).toBe("PENDING");
    for (let i = 0; i < 4; i++) {
      await page.fill('input[name="code"]', wrong);
      await Promise.all([page.waitForResponse((r) => r.url() === s.graphqlUrl && r.request().method() === "POST"), page.click('button[name="verify"]')]);
    }
    await page.waitForSelector('[data-status="MAX_ATTEMPTS_REACHED"]');
    await expect.poll(() => page.textContent("#error")).toMatch(/Too many wrong codes/);
    expect(await page.textContent("#status-text")).toMatch(/Too many wrong codes/);
    // The right code no longer helps.
    await page.fill('input[name="code"]', right);
    await page.click('button[name="verify"]');
    await expect.poll(() => page.textContent("#error")).toMatch(/Too many wrong codes/);
    expect(await status(page)).toBe("MAX_ATTEMPTS_REACHED");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("explains a missing consent and a number that is not valid, and puts the focus where the fix goes", async () => {
    const { page } = await open();
    await page.selectOption('select[name="country"]', "GB");
    await page.fill('input[name="phone"]', numbers[2]!);
    await page.click('button[name="send"]');
    expect(await page.textContent("#error")).toBe("Please agree to receive the code by SMS: tick the box above “Send code”.");
    expect(await focused(page)).toBe("consent");
    expect(await status(page)).toBe("");

    await page.check('input[name="consent"]');
    await page.fill('input[name="phone"]', "12");
    await page.click('button[name="send"]');
    await expect.poll(() => page.textContent("#error")).not.toBe("");
    expect(await page.textContent("#error")).toBe("That number does not look right for the selected country. Check it, or type it in full with a leading +.");
    await page.close();
  });
});

describe("the demo page's rate-limit message", () => {
  let s: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    // One start per hour per client IP: the second start is refused with retryAfterSeconds.
    [s, browser] = await Promise.all([startServer({ env: { DEMO_PAGE: "on", LIMIT_STARTS_PER_IP: "1/3600" }, sweeper: false }), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it("says how long to wait, from retryAfterSeconds", async () => {
    const page = await browser.newPage();
    await page.goto(`${s.url}/demo`);
    await page.fill('input[name="phone"]', "+447400340004");
    await page.check('input[name="consent"]');
    await page.click('button[name="send"]');
    await page.waitForSelector('[data-status="PENDING"]');
    await page.fill('input[name="phone"]', "+447400350005");
    const [response] = await Promise.all([page.waitForResponse((r) => r.url() === s.graphqlUrl && r.request().method() === "POST"), page.click('button[name="send"]')]);
    const body = (await response.json()) as { errors: { extensions: { code: string; retryAfterSeconds: number } }[] };
    expect(body.errors[0]!.extensions.code).toBe("RATE_LIMITED");
    const retry = body.errors[0]!.extensions.retryAfterSeconds;
    await expect.poll(() => page.textContent("#error")).not.toBe("");
    // The wait, rounded up to the unit a person reads: never less than the server asked for.
    const m = /^Too many attempts, try again in (\d+) (second|minute|hour)s?\.$/.exec((await page.textContent("#error")) ?? "");
    expect(m).not.toBeNull();
    const unit = { second: 1, minute: 60, hour: 3600 }[m![2] as "second" | "minute" | "hour"];
    expect(Number(m![1]) * unit).toBeGreaterThanOrEqual(retry);
    expect((Number(m![1]) - 1) * unit).toBeLessThan(retry);
    await page.close();
  });
});
