import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../src/config.js";
import { createClientKey, createService, freshMobile, startServer, type TestServer } from "./helpers/harness.js";

/**
 * CORS_ORIGINS over plain HTTP and WebSocket (the browser's view is in browser.cors.e2e.test.ts):
 * listed origins get their origin echoed with credentials, preflights answered; others get no CORS
 * header at all and a refused preflight; WebSocket upgrades follow the same list.
 */
const ALLOWED = "https://app.example.com";
const OTHER = "https://evil.example.net";

const preflight = (s: TestServer, origin: string, headers = "authorization, content-type") =>
  fetch(s.graphqlUrl, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers } });

/** Opens a WebSocket to /graphql with an Origin header; resolves "open" or the HTTP status of a refused upgrade. */
function upgrade(s: TestServer, origin?: string): Promise<"open" | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(s.wsUrl, "graphql-transport-ws", origin ? { origin } : {});
    ws.on("open", () => (ws.close(), resolve("open")));
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", () => undefined);
  });
}

describe("CORS with CORS_ORIGINS listing one origin", () => {
  let s: TestServer;
  let clientKey: string;
  let serviceId: string;
  beforeAll(async () => {
    s = await startServer({ env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } });
    serviceId = await createService(s);
    clientKey = (await createClientKey(s, serviceId)).secret;
  });
  afterAll(async () => s?.close());

  it("answers a listed origin's preflight with 204, its origin, credentials, the methods and headers", async () => {
    const r = await preflight(s, ALLOWED);
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(r.headers.get("access-control-allow-credentials")).toBe("true");
    expect(r.headers.get("access-control-allow-methods")).toContain("POST");
    expect(r.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(r.headers.get("access-control-max-age")).toBe("600");
    expect(r.headers.get("vary")).toMatch(/origin/i);
  });

  it("lets a CLIENT key start a verification from a listed origin, with the CORS headers on the answer", async () => {
    const r = await fetch(s.graphqlUrl, {
      method: "POST",
      headers: { origin: "http://localhost:5173", "content-type": "application/json", authorization: `Bearer ${clientKey}` },
      body: JSON.stringify({ query: `mutation($i: StartVerificationInput!) { startVerification(input: $i) { status } }`, variables: { i: { serviceId, to: freshMobile(), channel: "SMS" } } }),
    });
    expect(r.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(r.headers.get("access-control-expose-headers")).toMatch(/retry-after/i);
    expect(await r.json()).toEqual({ data: { startVerification: { status: "PENDING" } } });
  });

  it("gives an origin that is not listed no CORS header, and refuses its preflight", async () => {
    const pre = await preflight(s, OTHER);
    expect(pre.status).toBe(403);
    expect([...pre.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
    // The server does not stop a request that skips the preflight (it is not a browser's); it just
    // never tells a browser it may read the answer.
    const r = await fetch(`${s.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, { headers: { origin: OTHER, "apollo-require-preflight": "1" } });
    expect([...r.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
  });

  it("is an exact match: scheme, host and port", async () => {
    for (const near of ["http://app.example.com", "https://app.example.com:8443", "https://sub.app.example.com", "https://app.example.com.evil.net", "null"]) {
      expect((await preflight(s, near)).status, near).toBe(403);
    }
  });

  it("accepts WebSocket upgrades from listed origins, from this server's own origin and from clients without an Origin", async () => {
    expect(await upgrade(s, ALLOWED)).toBe("open");
    expect(await upgrade(s, new URL(s.url).origin)).toBe("open");
    expect(await upgrade(s)).toBe("open");
  });

  it("refuses a WebSocket upgrade from an origin that is not listed (403)", async () => {
    expect(await upgrade(s, OTHER)).toBe(403);
  });
});

describe("CORS by default (CORS_ORIGINS empty)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it("allows no other origin: preflights refused, no CORS headers, foreign WebSocket upgrades refused", async () => {
    expect((await preflight(s, ALLOWED)).status).toBe(403);
    const r = await fetch(`${s.url}/healthz`, { headers: { origin: ALLOWED } });
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(await upgrade(s, ALLOWED)).toBe(403);
    expect(await upgrade(s, new URL(s.url).origin)).toBe("open");
  });
});

describe("CORS_ORIGINS=*", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { CORS_ORIGINS: "*" } });
  });
  afterAll(async () => s?.close());

  it("allows every origin with a literal *, and never with credentials (the Fetch standard forbids both together)", async () => {
    const r = await preflight(s, OTHER);
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-allow-credentials")).toBeNull();
    expect(await upgrade(s, OTHER)).toBe("open");
  });
});

describe("CORS_ORIGINS is validated at start-up", () => {
  it.each(["app.example.com", "https://app.example.com/", "https://app.example.com/path", "ftp://x.example", "https://a.example, nonsense"])("refuses %j, naming the variable", (value) => {
    expect(() => loadConfig({ DATABASE_URL: "file::memory:", CODE_SECRET: "s".repeat(32), CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS: /);
  });

  it("accepts origins with ports and IPv6 hosts, and trims the list", () => {
    const c = loadConfig({ DATABASE_URL: "file::memory:", CODE_SECRET: "s".repeat(32), CORS_ORIGINS: " https://app.example.com , http://[::1]:5173,http://localhost:3000 " });
    expect(c.CORS_ORIGINS).toEqual(["https://app.example.com", "http://[::1]:5173", "http://localhost:3000"]);
  });
});
