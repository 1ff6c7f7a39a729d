import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK, createClientKey, createService, ok, queryDb, START, startServer, type TestServer } from "./helpers/harness.js";

/**
 * The detectors' window counters and the limiter's buckets are rows (or Redis keys) anyone with a dump
 * can read. Issue 14: they must not list the numbers that asked for codes; a number appears only as a
 * keyed hash (src/risk/number-key.ts), and nothing narrower than a detector prefix (calling code and
 * three digits) appears in clear.
 */
describe("counter and limiter keys", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TRUST_PROXY: "127.0.0.1/32" } });
  });
  afterAll(async () => s?.close());

  it("name numbers only by a keyed hash, never in clear and never by their block of 100", async () => {
    const serviceId = await createService(s, { friendlyName: "Keys" });
    const { secret } = await createClientKey(s, serviceId);
    // Close numbers (the sequential signal keys their blocks), from a client IP (per-IP keys), one resent.
    const numbers = ["+447400123401", "+447400123402", "+447400123457", "+33612345678"];
    for (const to of [...numbers, numbers[0]!]) {
      ok(await s.gql(START, { input: { serviceId, to, channel: "SMS" } }, secret, { "x-forwarded-for": "198.51.100.7" }));
    }
    ok(await s.gql(START, { input: { serviceId, to: "+4915123456789", channel: "SMS" } })); // an admin-key start
    ok(await s.gql(CHECK, { input: { serviceId, to: numbers[1], code: "000000" } }, secret, { "x-forwarded-for": "198.51.100.7" }));

    const keys = [
      ...queryDb<{ key: string }>(s, "select distinct key from risk_counters").map((r) => r.key),
      ...queryDb<{ key: string }>(s, "select key from rate_limits").map((r) => r.key),
    ];
    expect(keys.some((k) => k.startsWith("vg:number::start::"))).toBe(true);
    expect(keys.some((k) => k.startsWith("sig:seq-n:"))).toBe(true);
    // The scan sees what it should: detector prefixes are there in clear.
    expect(keys.join("\n")).toContain("+44740");
    for (const to of [...numbers, "+4915123456789"]) {
      const digits = to.slice(1);
      for (const k of keys) {
        expect(k).not.toContain(digits);
        expect(k).not.toContain(digits.slice(0, -2)); // the number's block of 100
        expect(k).not.toContain(digits.slice(-8)); // its national digits, however the key is written
      }
    }
  });
});
