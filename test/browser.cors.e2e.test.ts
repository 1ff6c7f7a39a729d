import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./helpers/browser.js";
import { createClientKey, createCoreService, freshMobile, queryDb, startServer, type TestServer } from "./helpers/harness.js";

/**
 * A page on another origin calling the API with a publishable CLIENT key, in Chromium: start, check,
 * read and subscribe all work when CORS_ORIGINS lists the page's origin, and none does when it does
 * not (the browser stops at the refused preflight, and the WebSocket upgrade is refused).
 * @see issue 12, browser scenario 5
 */
interface Outcome {
  start: string;
  read: string;
  check: string;
  subscribe: string;
}

/** Runs in the other origin's page: every call a frontend makes, each reported as a short string. */
async function frontendCalls(args: { api: string; key: string; serviceId: string; to: string }): Promise<Outcome> {
  const gql = async (query: string, variables: Record<string, unknown>) => {
    try {
      const r = await fetch(`${args.api}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${args.key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await r.json()) as { data?: Record<string, Record<string, unknown>>; errors?: { message: string }[] };
      return body.errors ? `error: ${body.errors[0]!.message}` : JSON.stringify(Object.values(body.data!)[0]);
    } catch (e) {
      return `blocked: ${(e as Error).name}`;
    }
  };
  const start = await gql(`mutation($i: StartVerificationInput!) { startVerification(input: $i) { id status } }`, { i: { serviceId: args.serviceId, to: args.to, channel: "SMS" } });
  const id = start.startsWith("{") ? (JSON.parse(start) as { id: string }).id : "VE" + "0".repeat(32);
  const subscribe = await new Promise<string>((resolve) => {
    const ws = new WebSocket(`${args.api.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
    const timer = setTimeout(() => resolve("timeout"), 5000);
    ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${args.key}` } }));
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { type: string; payload?: { data?: { verificationUpdated: { type: string; status: string } } } };
      if (m.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: `subscription($id: ID!) { verificationUpdated(verificationId: $id) { type status } }`, variables: { id } } }));
      } else if (m.type === "next") {
        clearTimeout(timer);
        resolve(JSON.stringify(m.payload!.data!.verificationUpdated));
        ws.close();
      }
    };
    ws.onclose = (e) => (clearTimeout(timer), resolve(`closed ${e.code}`));
  });
  const read = await gql(`query($s: ID!, $id: ID!) { verification(serviceId: $s, id: $id) { status } }`, { s: args.serviceId, id });
  const check = await gql(`mutation($i: CheckVerificationInput!) { checkVerification(input: $i) { status valid } }`, { i: { serviceId: args.serviceId, verificationId: id, code: "000000" } });
  return { start, read, check, subscribe };
}

describe("a page on another origin, in Chromium", () => {
  let page: Server;
  let pagePort: number;
  let s: TestServer;
  let browser: Browser;
  let key: string;
  let serviceId: string;

  beforeAll(async () => {
    // The other site: a bare page on its own port (another origin than the API's).
    page = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>shop</title><p>A shop's sign-up page.</p>"));
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
    pagePort = (page.address() as AddressInfo).port;
    // Only 127.0.0.1:<pagePort> is listed; localhost:<pagePort> is another origin, not listed.
    [s, browser] = await Promise.all([startServer({ env: { CORS_ORIGINS: `http://127.0.0.1:${pagePort}` }, sweeper: false }), launchChromium()]);
    serviceId = await createCoreService(s);
    key = (await createClientKey(s, serviceId)).secret;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
    page?.close();
  });

  async function runFrom(origin: string, to: string): Promise<Outcome> {
    const tab: Page = await browser.newPage();
    await tab.goto(`${origin}/`);
    try {
      return await tab.evaluate(frontendCalls, { api: s.url, key, serviceId, to });
    } finally {
      await tab.close();
    }
  }

  it("starts, reads, subscribes and checks with a CLIENT key from an origin CORS_ORIGINS lists", async () => {
    const to = freshMobile();
    const r = await runFrom(`http://127.0.0.1:${pagePort}`, to);
    expect(JSON.parse(r.start)).toMatchObject({ status: "PENDING" });
    expect(JSON.parse(r.subscribe)).toEqual({ type: "SUBSCRIBED", status: "PENDING" });
    expect(JSON.parse(r.read)).toEqual({ status: "PENDING" });
    expect(JSON.parse(r.check)).toEqual({ status: "PENDING", valid: false });
  });

  it("gets nothing from an origin that is not listed: the preflight is refused and the socket too, and nothing is sent", async () => {
    const to = freshMobile();
    const r = await runFrom(`http://localhost:${pagePort}`, to);
    expect(r).toEqual({ start: "blocked: TypeError", read: "blocked: TypeError", check: "blocked: TypeError", subscribe: "closed 1006" });
    expect(queryDb(s, "select count(*) as n from verifications where to_number = ?", to)).toEqual([{ n: 0 }]);
  });
});
