import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { failOnPageErrors, launchChromium, recordSockets, screenshot } from "./helpers/browser.js";
import { ADMIN_KEY, createService, freshMobile, shadowRisk, startServer, startVerification, type TestServer } from "./helpers/harness.js";

/**
 * GraphiQL in Chromium: a subscription typed into the editor, authenticated by the key pasted into the
 * Headers tab (which must reach graphql-ws's connection_init), receives a live event; a wrong key
 * reads as a sentence at once (it used to retry for 45 s and end in {"isTrusted":true}).
 * @see issue 12, browser scenario 3
 */
describe("GraphiQL in Chromium", () => {
  let s: TestServer;
  let browser: Browser;
  let serviceId: string;

  beforeAll(async () => {
    [s, browser] = await Promise.all([startServer({ sweeper: false }), launchChromium()]);
    serviceId = await createService(s, { friendlyName: "Live" });
    await shadowRisk(s, serviceId);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  /** Replaces an editor's text as typed input (insertText: no auto-closed brackets doubling up). */
  async function typeInto(page: Page, editor: string, text: string): Promise<void> {
    await page.click(`${editor} .CodeMirror`);
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(text);
  }
  const QUERY_EDITOR = ".graphiql-query-editor";
  const HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";
  const response = (page: Page) => page.locator(".graphiql-response").innerText();

  async function open(): Promise<{ page: Page; errors: string[]; sockets: ReturnType<typeof recordSockets> }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // The schema fetch on load carries the placeholder key: 401 (INTROSPECTION=key), until a key is pasted.
    const errors = failOnPageErrors(page, [/status of 401 \(Unauthorized\)/]);
    const sockets = recordSockets(page);
    await page.goto(s.graphqlUrl);
    await page.waitForSelector(`${QUERY_EDITOR} .CodeMirror`);
    // The Headers tab is open by default and primed for the key.
    expect(await page.locator(HEADERS_EDITOR).innerText()).toContain("Bearer <paste your API key>");
    return { page, errors, sockets };
  }

  it("runs a subscription typed into the editor with the key from the Headers tab, and shows a live event", async () => {
    const { page, errors, sockets } = await open();
    await typeInto(page, HEADERS_EDITOR, `{\n"Authorization": "Bearer ${ADMIN_KEY}"\n}`);
    await typeInto(page, QUERY_EDITOR, `subscription Live {\nverificationEvents(serviceId: "${serviceId}") {\ntype status channel verificationId\n}\n}`);
    await page.click(".graphiql-execute-button");
    await expect.poll(() => response(page)).toContain('"SUBSCRIBED"');
    // Pasting the key fetched the schema again: the Docs pane knows the API now.
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await expect.poll(() => page.locator(".graphiql-doc-explorer").innerText()).toContain("Subscription");

    const v = await startVerification(s, { serviceId, to: freshMobile() });
    await expect.poll(() => response(page)).toContain('"CREATED"');
    expect(await response(page)).toContain('"PENDING"');

    // The pasted header went into connection_init, as graphql-ws carries it.
    expect(sockets.urls).toEqual([s.wsUrl]);
    expect(JSON.parse(sockets.sent[0]!)).toEqual({ type: "connection_init", payload: { Authorization: `Bearer ${ADMIN_KEY}` } });
    expect(sockets.received.some((f) => f.includes(v.id))).toBe(true);
    expect(errors).toEqual([]);
    await screenshot(page, "graphiql");
    await page.close();
  });

  it("shows a refused key as a readable error within seconds, not {isTrusted: true}", async () => {
    const { page } = await open();
    await typeInto(page, HEADERS_EDITOR, JSON.stringify({ Authorization: "Bearer vg_admin_not-a-real-key-000000000000" }));
    await typeInto(page, QUERY_EDITOR, `subscription { verificationEvents(serviceId: "${serviceId}") { type } }`);
    const started = Date.now();
    await page.click(".graphiql-execute-button");
    await expect.poll(() => response(page), { timeout: 10_000 }).toContain("refused the API key");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await response(page)).toContain("4403 Forbidden");
    expect(await response(page)).not.toContain("isTrusted");
    await page.close();
  });

  it("runs queries over HTTP with the same header", async () => {
    const { page } = await open();
    await typeInto(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${ADMIN_KEY}` }));
    await typeInto(page, QUERY_EDITOR, `{ service(id: "${serviceId}") { friendlyName } }`);
    await page.click(".graphiql-execute-button");
    await expect.poll(() => response(page)).toContain('"friendlyName": "Live"');
    await page.close();
  });
});
