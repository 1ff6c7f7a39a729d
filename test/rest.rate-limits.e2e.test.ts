import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, createService, freshMobile, ok, startServer, type TestServer } from "./helpers/harness.js";
import { accountSidOf, restError, twilioClient, type TwilioClient } from "./helpers/twilio-client.js";

/**
 * `/v2/Services/{sid}/RateLimits` and their `Buckets` through the `twilio` SDK: the same service rate
 * limits GraphQL's setRateLimits writes and the limits stage enforces on starts that pass RateLimits.
 */
describe("Service rate limits over the Twilio-compatible REST API", () => {
  let s: TestServer;
  let client: TwilioClient;
  let serviceSid: string;

  const SERVICE_LIMITS = `query($id: ID!) { service(id: $id) { rateLimits { sid uniqueName description buckets { sid max intervalSeconds } } } }`;

  beforeAll(async () => {
    s = await startServer();
    client = twilioClient(s, await accountSidOf(s), ADMIN_KEY);
    serviceSid = await createService(s, { friendlyName: "Limited" });
  });
  afterAll(async () => s?.close());

  it("creates a rate limit and a bucket, and the next starts are counted against them", async () => {
    const limit = await client.verify.v2.services(serviceSid).rateLimits.create({ uniqueName: "end_user_ip_address", description: "per end-user IP" });
    expect(limit).toMatchObject({ serviceSid, uniqueName: "end_user_ip_address", description: "per end-user IP", url: `${s.url}/v2/Services/${serviceSid}/RateLimits/${limit.sid}` });
    expect(limit.sid).toMatch(/^RK[0-9a-f]{32}$/);
    expect(limit.links).toEqual({ buckets: `${s.url}/v2/Services/${serviceSid}/RateLimits/${limit.sid}/Buckets` });

    // No bucket yet: the limit counts nothing.
    for (let i = 0; i < 3; i++) await client.verify.v2.services(serviceSid).verifications.create({ to: freshMobile(), channel: "sms", rateLimits: { end_user_ip_address: "198.51.100.7" } });

    const bucket = await client.verify.v2.services(serviceSid).rateLimits(limit.sid).buckets.create({ max: 2, interval: 600 });
    expect(bucket).toMatchObject({ rateLimitSid: limit.sid, serviceSid, max: 2, interval: 600 });
    expect(bucket.sid).toMatch(/^BL[0-9a-f]{32}$/);

    const start = () => client.verify.v2.services(serviceSid).verifications.create({ to: freshMobile(), channel: "sms", rateLimits: { end_user_ip_address: "198.51.100.8" } });
    await start();
    await start();
    expect(await restError(start())).toMatchObject({ status: 429, code: 20429 });

    // GraphQL sees the same limit, with the same SIDs.
    const gql = ok(await s.gql<{ service: { rateLimits: unknown[] } }>(SERVICE_LIMITS, { id: serviceSid })).service.rateLimits;
    expect(gql).toEqual([{ sid: limit.sid, uniqueName: "end_user_ip_address", description: "per end-user IP", buckets: [{ sid: bucket.sid, max: 2, intervalSeconds: 600 }] }]);
  });

  it("fetches, lists, updates and deletes limits and buckets", async () => {
    const svc = await createService(s, { friendlyName: "Crud" });
    const rl = client.verify.v2.services(svc).rateLimits;
    const a = await rl.create({ uniqueName: "end_user_id" });
    const b = await rl.create({ uniqueName: "phone_prefix" });
    expect((await rl.list()).map((x) => x.uniqueName)).toEqual(["end_user_id", "phone_prefix"]);
    expect(await rl(a.sid).fetch()).toMatchObject({ sid: a.sid, description: null });
    expect(await rl(a.sid).update({ description: "per user" })).toMatchObject({ sid: a.sid, description: "per user" });

    const b1 = await rl(a.sid).buckets.create({ max: 5, interval: 60 });
    const b2 = await rl(a.sid).buckets.create({ max: 50, interval: 3600 });
    expect((await rl(a.sid).buckets.list()).map((x) => [x.max, x.interval])).toEqual([[5, 60], [50, 3600]]);
    expect(await rl(a.sid).buckets(b1.sid).fetch()).toMatchObject({ sid: b1.sid, max: 5 });
    expect(await rl(a.sid).buckets(b1.sid).update({ max: 7 })).toMatchObject({ sid: b1.sid, max: 7, interval: 60 });
    expect(await rl(a.sid).buckets(b2.sid).remove()).toBe(true);
    expect(await restError(rl(a.sid).buckets(b2.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(rl(b.sid).buckets(b1.sid).fetch())).toMatchObject({ status: 404, code: 20404 });

    expect(await rl(b.sid).remove()).toBe(true);
    expect(await restError(rl(b.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect((await rl.list()).map((x) => x.sid)).toEqual([a.sid]);
  });

  it("keeps a limit's SID when GraphQL's setRateLimits rewrites the list with the same name", async () => {
    const svc = await createService(s, { friendlyName: "Both" });
    const a = await client.verify.v2.services(svc).rateLimits.create({ uniqueName: "end_user_id", description: "kept" });
    const bucket = await client.verify.v2.services(svc).rateLimits(a.sid).buckets.create({ max: 3, interval: 60 });
    ok(await s.gql(`mutation($s: ID!) { setRateLimits(serviceId: $s, rateLimits: [{ uniqueName: "end_user_id", buckets: [{ max: 3, intervalSeconds: 60 }, { max: 9, intervalSeconds: 3600 }] }]) { uniqueName } }`, { s: svc }));
    const after = await client.verify.v2.services(svc).rateLimits(a.sid).fetch();
    expect(after).toMatchObject({ sid: a.sid, description: "kept" });
    const buckets = await client.verify.v2.services(svc).rateLimits(a.sid).buckets.list();
    expect(buckets.map((x) => [x.sid === bucket.sid, x.max])).toEqual([[true, 3], [false, 9]]);
  });

  it("refuses what the limits stage could not enforce, naming the parameter", async () => {
    const svc = await createService(s, { friendlyName: "Bad" });
    const rl = client.verify.v2.services(svc).rateLimits;
    const a = await rl.create({ uniqueName: "end_user_id" });
    expect(await restError(rl.create({ uniqueName: "end_user_id" }))).toMatchObject({ status: 400, code: 60200 });
    const bad = await restError(rl.create({ uniqueName: "has space" }));
    expect(bad).toMatchObject({ status: 400, code: 60200 });
    expect(bad.message).toMatch(/`UniqueName`/);
    const zero = await restError(rl(a.sid).buckets.create({ max: 0, interval: 60 }));
    expect(zero.message).toMatch(/`Max`/);
    const long = await restError(rl(a.sid).buckets.create({ max: 1, interval: 90_000 }));
    expect(long.message).toMatch(/`Interval`/);
    for (let i = 0; i < 5; i++) await rl(a.sid).buckets.create({ max: i + 1, interval: 60 * (i + 1) });
    expect(await restError(rl(a.sid).buckets.create({ max: 9, interval: 600 }))).toMatchObject({ status: 400, code: 60200 });
    expect(await restError(client.verify.v2.services("VA" + "0".repeat(32)).rateLimits.create({ uniqueName: "x" }))).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(rl("RK" + "0".repeat(32)).buckets.create({ max: 1, interval: 60 }))).toMatchObject({ status: 404, code: 20404 });
  });
});
