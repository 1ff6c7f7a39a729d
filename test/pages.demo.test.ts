import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, ok, startServer, type TestServer } from "./helpers/harness.js";

/**
 * The demo page over plain HTTP (the sign-up itself runs in Chromium: browser.demo.e2e.test.ts): its
 * Demo service and publishable key are made once and kept, the page carries them, and the development
 * outbox panel answers only for the Demo service's verifications.
 */
describe("DEMO_PAGE=on", () => {
  let dir: string;
  let s: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vg-demo-"));
    s = await startServer({ dbFile: join(dir, "verify.db"), env: { DEMO_PAGE: "on" } });
  });
  afterAll(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (html: string) => JSON.parse(/<script id="vg-config" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!) as { serviceId: string; clientKey: string; consentVersion: string; outbox: boolean };

  it("creates a Demo service that requires consent, and a CLIENT key for it, kept private in the data dir", async () => {
    const saved = JSON.parse(readFileSync(join(dir, "demo.json"), "utf8")) as { serviceId: string; clientKey: string };
    expect(statSync(join(dir, "demo.json")).mode & 0o777).toBe(0o600);
    const d = ok(await s.gql<{ services: { id: string; friendlyName: string; requireConsent: boolean }[]; apiKeys: { role: string; serviceId: string }[] }>(`{ services { id friendlyName requireConsent } apiKeys { role serviceId } }`));
    expect(d.services).toEqual([{ id: saved.serviceId, friendlyName: "Demo", requireConsent: true }]);
    expect(d.apiKeys).toContainEqual({ role: "CLIENT", serviceId: saved.serviceId });
    expect(saved.clientKey).toMatch(/^vg_pk_/);
  });

  it("serves /demo with the consent notice, the test hooks, and the service and key it uses", async () => {
    const r = await fetch(`${s.url}/demo`, { headers: { "accept-encoding": "gzip" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-encoding")).toBe("gzip");
    expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await r.text();
    for (const hook of ['name="phone"', 'name="consent"', 'name="code"', 'name="send"', 'name="verify"', "data-status=", 'name="country"']) expect(html).toContain(hook);
    expect(html).toContain("Message and data rates may apply");
    expect(html).toMatch(/href="#terms"[^>]*>Terms</);
    expect(html).toMatch(/href="#privacy"[^>]*>Privacy Policy</);
    const saved = JSON.parse(readFileSync(join(dir, "demo.json"), "utf8")) as { serviceId: string; clientKey: string };
    expect(config(html)).toEqual({ serviceId: saved.serviceId, clientKey: saved.clientKey, consentVersion: "demo-2026-01", outbox: true });
    expect(html).toContain('id="outbox"');
  });

  it("keeps the same Demo service and key across restarts", async () => {
    const before = readFileSync(join(dir, "demo.json"), "utf8");
    await s.close();
    s = await startServer({ dbFile: join(dir, "verify.db"), env: { DEMO_PAGE: "on" } });
    expect(readFileSync(join(dir, "demo.json"), "utf8")).toBe(before);
    expect(ok(await s.gql<{ services: unknown[] }>(`{ services { id } }`)).services).toHaveLength(1);
  });

  it("shows the outbox message of a Demo verification, and nothing of another service's", async () => {
    const { serviceId, clientKey } = JSON.parse(readFileSync(join(dir, "demo.json"), "utf8")) as { serviceId: string; clientKey: string };
    const start = (sid: string, key: string, extra: Record<string, unknown> = {}) =>
      s.gql<{ startVerification: { id: string } }>(`mutation($i: StartVerificationInput!) { startVerification(input: $i) { id } }`, { i: { serviceId: sid, to: "+447400123456", channel: "SMS", ...extra } }, key);
    const demo = ok(await start(serviceId, clientKey, { consent: { textVersion: "demo-2026-01", agreedAt: new Date().toISOString() } })).startVerification;
    await s.app.dispatcher.idle();
    const r = await fetch(`${s.url}/demo/outbox/${demo.id}`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { message: string }).message).toMatch(/^Your Demo verification code is: \d{6}\./);

    const other = ok(await s.gql<{ createService: { id: string } }>(`mutation { createService(input: { friendlyName: "Other" }) { id } }`)).createService.id;
    const theirs = ok(await start(other, ADMIN_KEY)).startVerification;
    await s.app.dispatcher.idle();
    expect((await fetch(`${s.url}/demo/outbox/${theirs.id}`)).status).toBe(404);
    expect((await fetch(`${s.url}/demo/outbox/VE${"0".repeat(32)}`)).status).toBe(404);
  });
});

describe("DEMO_PAGE=off", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { DEMO_PAGE: "off" } });
  });
  afterAll(async () => s?.close());

  it("serves no /demo and makes no Demo service", async () => {
    expect((await fetch(`${s.url}/demo`)).status).toBe(404);
    expect(ok(await s.gql<{ services: unknown[] }>(`{ services { id } }`)).services).toEqual([]);
  });

  it("still serves /admin, which asks for a key before it shows anything", async () => {
    const r = await fetch(`${s.url}/admin`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toMatch(/<input id="admin-key"[^>]*type="password"/);
    expect(html).not.toMatch(/vg_admin_\w/);
  });
});

describe("DEMO_PAGE=on in production", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { DEMO_PAGE: "on", NODE_ENV: "production" } });
  });
  afterAll(async () => s?.close());

  it("shows no outbox panel and answers no outbox route: codes are never shown outside development", async () => {
    const html = await (await fetch(`${s.url}/demo`)).text();
    expect(html).not.toContain('id="outbox"');
    expect(html).toContain('"outbox":false');
    expect((await fetch(`${s.url}/demo/outbox/VE${"0".repeat(32)}`)).status).toBe(404);
  });
});
