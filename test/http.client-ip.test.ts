import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientIpResolver } from "../src/http/client-ip.js";
import { createClientKey, createService, errorOf, freshMobile, ok, queryDb, START, startServer, type TestServer } from "./helpers/harness.js";

describe("ClientIpResolver", () => {
  it.each<[string, string[], string | undefined, string | string[] | undefined, string | null]>([
    ["uses the socket address when no proxy is trusted", [], "192.0.2.10", "203.0.113.9", "192.0.2.10"],
    ["believes X-Forwarded-For from a trusted proxy", ["127.0.0.1/32"], "127.0.0.1", "203.0.113.9", "203.0.113.9"],
    ["ignores X-Forwarded-For from an untrusted peer", ["127.0.0.1/32"], "192.0.2.10", "203.0.113.9", "192.0.2.10"],
    ["takes the right-most hop: entries left of it may be forged by the client", ["127.0.0.1/32"], "127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"],
    ["skips every trusted hop of a proxy chain", ["127.0.0.1/32", "10.0.0.0/8"], "127.0.0.1", "6.6.6.6, 203.0.113.9, 10.1.2.3", "203.0.113.9"],
    ["reads a header sent several times as one list", ["127.0.0.1/32"], "127.0.0.1", ["6.6.6.6", "203.0.113.9"], "203.0.113.9"],
    ["treats an IPv4-mapped socket address as IPv4", ["127.0.0.1/32"], "::ffff:127.0.0.1", "203.0.113.9", "203.0.113.9"],
    ["trusts IPv6 proxies by CIDR", ["::1/128"], "::1", "2001:db8::7", "2001:db8::7"],
    ["a bare address in TRUST_PROXY is a single host", ["127.0.0.1"], "127.0.0.1", "203.0.113.9", "203.0.113.9"],
    ["skips hops that are not addresses", ["127.0.0.1/32"], "127.0.0.1", "203.0.113.9, not-an-ip", "203.0.113.9"],
    ["falls back to the proxy itself when the header holds no address", ["127.0.0.1/32"], "127.0.0.1", "garbage", "127.0.0.1"],
    ["uses the peer when a trusted proxy sends no header", ["127.0.0.1/32"], "127.0.0.1", undefined, "127.0.0.1"],
    ["returns null without a socket address", [], undefined, "203.0.113.9", null],
  ])("%s", (_name, cidrs, socket, xff, expected) => {
    expect(new ClientIpResolver(cidrs).resolve(socket, xff)).toBe(expected);
  });
});

/** The IP the server recorded on the decision row of the latest start for `to`. */
function recordedIp(s: TestServer, to: string): string | null {
  const rows = queryDb<{ ip: string | null }>(s, "select ip from risk_decisions where to_number = ? order by created_at desc limit 1", to);
  return rows[0]?.ip ?? null;
}

describe("client IP over HTTP", () => {
  describe("behind a trusted proxy (TRUST_PROXY=127.0.0.1/32)", () => {
    let s: TestServer;
    let serviceId: string;
    beforeAll(async () => {
      s = await startServer({ env: { TRUST_PROXY: "127.0.0.1/32", LIMIT_STARTS_PER_IP: "2/3600" } });
      serviceId = await createService(s);
    });
    afterAll(async () => s?.close());

    it("records the client address from X-Forwarded-For", async () => {
      const to = freshMobile();
      ok(await s.gql(START, { input: { serviceId, to, channel: "SMS" } }, undefined, { "x-forwarded-for": "6.6.6.6, 203.0.113.9" }));
      expect(recordedIp(s, to)).toBe("203.0.113.9");
    });

    it("gives each forwarded client its own per-IP budget", async () => {
      const { secret } = await createClientKey(s, serviceId);
      const startFrom = (ip: string) => s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }, secret, { "x-forwarded-for": ip });
      ok(await startFrom("198.51.100.1"));
      ok(await startFrom("198.51.100.1"));
      expect(errorOf(await startFrom("198.51.100.1"))).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
      ok(await startFrom("198.51.100.2"));
    });
  });

  describe("without a trusted proxy (TRUST_PROXY empty)", () => {
    let s: TestServer;
    let serviceId: string;
    beforeAll(async () => {
      s = await startServer({ env: { LIMIT_STARTS_PER_IP: "2/3600" } });
      serviceId = await createService(s);
    });
    afterAll(async () => s?.close());

    it("ignores X-Forwarded-For and records the socket address", async () => {
      const to = freshMobile();
      ok(await s.gql(START, { input: { serviceId, to, channel: "SMS" } }, undefined, { "x-forwarded-for": "203.0.113.9" }));
      expect(recordedIp(s, to)).toBe("127.0.0.1");
    });

    it("does not let a client escape its per-IP limit by forging X-Forwarded-For", async () => {
      const { secret } = await createClientKey(s, serviceId);
      const startAs = (forged: string) => s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }, secret, { "x-forwarded-for": forged });
      ok(await startAs("198.51.100.1"));
      ok(await startAs("198.51.100.2"));
      expect(errorOf(await startAs("198.51.100.3"))).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
    });
  });
});
