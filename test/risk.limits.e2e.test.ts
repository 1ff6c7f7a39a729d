import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CANCEL,
  CHECK,
  codesSent,
  createClientKey,
  createService,
  limitsOnlyService,
  errorOf,
  freshMobile,
  ok,
  START,
  startServer,
  startVerification,
  type TestServer,
} from "./helpers/harness.js";

const SET_RATE_LIMITS = `mutation($serviceId: ID!, $rateLimits: [ServiceRateLimitInput!]!) {
  setRateLimits(serviceId: $serviceId, rateLimits: $rateLimits) { uniqueName buckets { max intervalSeconds } } }`;
const SERVICE_LIMITS = `query($id: ID!) { service(id: $id) { id rateLimits { uniqueName buckets { max intervalSeconds } } dailyBudgetCents } }`;

describe("limits over HTTP", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TRUST_PROXY: "127.0.0.1/32" } });
  });
  afterAll(async () => s?.close());

  it("allows 5 sends to a number in 10 minutes, across verifications, and answers the 6th with 20429 and retryAfterSeconds", async () => {
    const serviceId = await limitsOnlyService(s);
    const to = freshMobile();
    for (let i = 0; i < 5; i++) {
      // A new verification each time (cancel, start again): the per-verification send cap never applies.
      const v = await startVerification(s, { serviceId, to });
      expect(v.sendCodeAttempts).toHaveLength(1);
      ok(await s.gql(CANCEL, { serviceId, id: v.id }));
    }
    const e = errorOf(await s.gql(START, { input: { serviceId, to, channel: "SMS" } }));
    expect(e).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429, message: "Too many requests" });
    expect(e.retryAfterSeconds).toBeGreaterThan(0);
    expect(e.retryAfterSeconds).toBeLessThanOrEqual(1200);
    expect(await codesSent(s, to)).toHaveLength(5);
  });

  it("limits one client IP hammering many numbers, and not another IP", async () => {
    const serviceId = await limitsOnlyService(s);
    const { secret } = await createClientKey(s, serviceId);
    const from = (ip: string) => s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }, secret, { "x-forwarded-for": ip });
    let allowed = 0;
    let first429: ReturnType<typeof errorOf> | null = null;
    for (let i = 0; i < 25 && !first429; i++) {
      const r = await from("198.51.100.77");
      if (r.errors) first429 = errorOf(r);
      else allowed++;
    }
    expect(allowed).toBe(20); // LIMIT_STARTS_PER_IP default: 20 per hour
    expect(first429).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
    expect(first429!.retryAfterSeconds).toBeGreaterThan(0);
    ok(await from("198.51.100.78"));
  });

  it("keeps counting wrong guesses when a new code is asked for (checks per number across verifications)", async () => {
    const serviceId = await limitsOnlyService(s);
    const to = freshMobile();
    const wrong = async () => s.gql<{ checkVerification: { status: string; valid: boolean } }>(CHECK, { input: { serviceId, to, code: "000000" } });
    for (let round = 0; round < 2; round++) {
      await startVerification(s, { serviceId, to });
      for (let i = 0; i < 5; i++) {
        const r = await wrong();
        // 5 wrong guesses end the verification (maxCheckAttempts); the 5th answer says so.
        expect(ok(r).checkVerification.valid).toBe(false);
      }
    }
    // A third code: the number has used its 10 checks this hour, so even the right code is refused.
    await startVerification(s, { serviceId, to });
    const [code] = await codesSent(s, to);
    const e = errorOf(await s.gql(CHECK, { input: { serviceId, to, code } }));
    expect(e).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
    expect(e.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("enforces a service's own named buckets per value, and refuses a value for an unknown name", async () => {
    const serviceId = await limitsOnlyService(s);
    const set = ok(
      await s.gql<{ setRateLimits: unknown[] }>(SET_RATE_LIMITS, { serviceId, rateLimits: [{ uniqueName: "end_user_id", buckets: [{ max: 2, intervalSeconds: 60 }] }] }),
    );
    expect(set.setRateLimits).toEqual([{ uniqueName: "end_user_id", buckets: [{ max: 2, intervalSeconds: 60 }] }]);
    const asUser = (value: string, name = "end_user_id") =>
      s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS", rateLimits: [{ uniqueName: name, value }] } });
    ok(await asUser("u-42"));
    ok(await asUser("u-42"));
    expect(errorOf(await asUser("u-42"))).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
    ok(await asUser("u-7"));
    expect(errorOf(await asUser("d-1", "device_id"))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
  });

  it("shows a service's rate limits and budget to admins only", async () => {
    const serviceId = await limitsOnlyService(s);
    ok(await s.gql(SET_RATE_LIMITS, { serviceId, rateLimits: [{ uniqueName: "ip_address", buckets: [{ max: 3, intervalSeconds: 600 }] }] }));
    const seen = ok(await s.gql<{ service: { rateLimits: unknown[]; dailyBudgetCents: number } }>(SERVICE_LIMITS, { id: serviceId })).service;
    expect(seen).toMatchObject({ rateLimits: [{ uniqueName: "ip_address", buckets: [{ max: 3, intervalSeconds: 600 }] }], dailyBudgetCents: 5000 });
    const { secret } = await createClientKey(s, serviceId);
    expect(errorOf(await s.gql(SERVICE_LIMITS, { id: serviceId }, secret))).toMatchObject({ code: "FORBIDDEN", errorCode: 20403 });
    expect(errorOf(await s.gql(SET_RATE_LIMITS, { serviceId, rateLimits: [] }, secret))).toMatchObject({ code: "FORBIDDEN" });
  });

  it.each([
    ["a bucket of 0", [{ uniqueName: "end_user_id", buckets: [{ max: 0, intervalSeconds: 60 }] }]],
    ["an interval over a day", [{ uniqueName: "end_user_id", buckets: [{ max: 1, intervalSeconds: 90_000 }] }]],
    ["a name with a space", [{ uniqueName: "end user", buckets: [{ max: 1, intervalSeconds: 60 }] }]],
    ["six buckets", [{ uniqueName: "end_user_id", buckets: [1, 2, 3, 4, 5, 6].map((m) => ({ max: m, intervalSeconds: 60 * m })) }]],
    ["a name given twice", [{ uniqueName: "end_user_id", buckets: [{ max: 1, intervalSeconds: 60 }] }, { uniqueName: "end_user_id", buckets: [{ max: 2, intervalSeconds: 60 }] }]],
  ])("refuses rate limits with %s (60200)", async (_name, rateLimits) => {
    const serviceId = await limitsOnlyService(s);
    expect(errorOf(await s.gql(SET_RATE_LIMITS, { serviceId, rateLimits }))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
  });
});

describe("limiter state across a restart (embedded SQLite)", () => {
  const dir = mkdtempSync(join(tmpdir(), "vg-restart-"));
  const dbFile = join(dir, "verify.db");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("still refuses the 6th send to a number after the server restarts on the same file", async () => {
    const to = freshMobile();
    const first = await startServer({ dbFile });
    let serviceId: string;
    try {
      serviceId = await limitsOnlyService(first);
      for (let i = 0; i < 5; i++) {
        const v = await startVerification(first, { serviceId, to });
        ok(await first.gql(CANCEL, { serviceId, id: v.id }));
      }
    } finally {
      await first.close();
    }
    const second = await startServer({ dbFile });
    try {
      expect(errorOf(await second.gql(START, { input: { serviceId, to, channel: "SMS" } }))).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
      // Another number is unaffected: the counters are per number, not a blanket refusal.
      ok(await second.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }));
    } finally {
      await second.close();
    }
  });
});
