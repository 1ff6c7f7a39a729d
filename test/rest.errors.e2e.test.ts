import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, createCoreService, createService, freshMobile, latestCode, ok, startServer, type TestServer } from "./helpers/harness.js";
import { accountSidOf, restError, twilioClient, type TwilioClient } from "./helpers/twilio-client.js";

/**
 * Every error the REST API answers, as the `twilio` SDK sees it: a `RestException` whose `status` is
 * Twilio's HTTP status for the code and whose `code` is Twilio's number; 429s carry `Retry-After`.
 * Then the bad input a client can send (missing or malformed parameters, a non-form body): each gets
 * a coded 4xx naming the parameter, never a 500, and the server keeps serving.
 */

/** What must never reach a caller: stacks, source paths, driver names, SQL. */
const INTERNALS = /stack|node_modules|\/src\/|\.ts:\d+|\bat [\w.<>]+ \(|SqliteError|SQLITE_|select |insert into/i;

describe("REST errors as Twilio's RestException", () => {
  let s: TestServer;
  let client: TwilioClient;
  let auth: string;
  let core: string;
  /** A service with every risk stage enforcing (core shadows them). */
  let guarded: string;

  beforeAll(async () => {
    s = await startServer();
    const accountSid = await accountSidOf(s);
    client = twilioClient(s, accountSid, ADMIN_KEY);
    auth = `Basic ${Buffer.from(`${accountSid}:${ADMIN_KEY}`).toString("base64")}`;
    core = await createCoreService(s, { friendlyName: "Core" });
    guarded = await createService(s, { friendlyName: "Guarded" });
  });
  afterAll(async () => s?.close());

  /** A raw request, for what the SDK's typed methods cannot send. */
  const raw = async (path: string, init: { method?: string; form?: Record<string, string>; body?: string; contentType?: string } = {}) => {
    const body = init.form ? new URLSearchParams(init.form).toString() : init.body;
    const res = await fetch(`${s.url}/v2${path}`, {
      method: init.method ?? (body !== undefined ? "POST" : "GET"),
      headers: { authorization: auth, ...(body !== undefined ? { "content-type": init.contentType ?? "application/x-www-form-urlencoded" } : {}) },
      body,
    });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get("retry-after"), text, json: JSON.parse(text) as { code: number; message: string; more_info: string; status: number } };
  };

  it("60200 (400): an invalid number, naming To", async () => {
    const e = await restError(client.verify.v2.services(core).verifications.create({ to: "+4412", channel: "sms" }));
    expect(e).toMatchObject({ status: 400, code: 60200 });
    expect(e.message).toMatch(/^Invalid parameter `To`: /);
    expect(e.moreInfo).toBe("https://www.twilio.com/docs/errors/60200");
  });

  it("60202 (429, Retry-After): a check after the verification used up its check attempts", async () => {
    const svc = await createCoreService(s, { friendlyName: "Strict", maxCheckAttempts: 1 });
    const to = freshMobile();
    await client.verify.v2.services(svc).verifications.create({ to, channel: "sms" });
    const code = await latestCode(s, to);
    const wrong = code === "000000" ? "111111" : "000000";
    expect(await client.verify.v2.services(svc).verificationChecks.create({ to, code: wrong })).toMatchObject({ status: "max_attempts_reached", valid: false });
    expect(await restError(client.verify.v2.services(svc).verificationChecks.create({ to, code }))).toMatchObject({ status: 429, code: 60202 });
    const r = await raw(`/Services/${svc}/VerificationCheck`, { form: { To: to, Code: code } });
    expect(r.json).toMatchObject({ code: 60202, status: 429 });
    expect(Number(r.retryAfter)).toBeGreaterThan(500); // until the 600 s TTL ends
  });

  it("60203 (429, Retry-After): a send beyond the verification's send attempts", async () => {
    const svc = await createCoreService(s, { friendlyName: "OneSend", maxSendAttempts: 1 });
    const to = freshMobile();
    await client.verify.v2.services(svc).verifications.create({ to, channel: "sms" });
    expect(await restError(client.verify.v2.services(svc).verifications.create({ to, channel: "sms" }))).toMatchObject({ status: 429, code: 60203 });
    const r = await raw(`/Services/${svc}/Verifications`, { form: { To: to, Channel: "sms" } });
    expect(r).toMatchObject({ status: 429, json: { code: 60203 } });
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
  });

  it("60205 (403): an SMS to a landline on a service that skips landlines", async () => {
    const svc = await createCoreService(s, { friendlyName: "Mobile", skipSmsToLandlines: true });
    expect(await restError(client.verify.v2.services(svc).verifications.create({ to: "+442071838750", channel: "sms" }))).toMatchObject({ status: 403, code: 60205 });
  });

  it("60410 (403): a blocked prefix", async () => {
    const svc = await createService(s, { friendlyName: "Guarded" });
    ok(await s.gql(`mutation($s: ID) { blockPrefix(prefix: "+44740", serviceId: $s, reason: "test") { prefix } }`, { s: svc }));
    expect(await restError(client.verify.v2.services(svc).verifications.create({ to: freshMobile(), channel: "sms" }))).toMatchObject({ status: 403, code: 60410 });
  });

  it("60605 (403): a destination the service's geo permissions block", async () => {
    const svc = await createService(s, { friendlyName: "Geo" });
    expect(await restError(client.verify.v2.services(svc).verifications.create({ to: "+2348031234567", channel: "sms" }))).toMatchObject({ status: 403, code: 60605 });
  });

  it("60606 (429, Retry-After): the service's daily budget is used up", async () => {
    const svc = await createService(s, { friendlyName: "Broke" });
    ok(await s.gql(`mutation($s: ID!) { setDailyBudget(serviceId: $s, cents: 0) { day } }`, { s: svc }));
    expect(await restError(client.verify.v2.services(svc).verifications.create({ to: freshMobile(), channel: "sms" }))).toMatchObject({ status: 429, code: 60606 });
    const r = await raw(`/Services/${svc}/Verifications`, { form: { To: freshMobile(), Channel: "sms" } });
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
  });

  it("60223 (400): a channel the service disabled", async () => {
    const svc = await createCoreService(s, { friendlyName: "SmsOnly", callEnabled: false });
    expect(await restError(client.verify.v2.services(svc).verifications.create({ to: freshMobile(), channel: "call" }))).toMatchObject({ status: 400, code: 60223 });
  });

  it("20404 (404): an unknown service, verification or route", async () => {
    expect(await restError(client.verify.v2.services("VA" + "0".repeat(32)).verifications.create({ to: freshMobile(), channel: "sms" }))).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.services(core).verifications("VE" + "0".repeat(32)).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.services("VA" + "0".repeat(32)).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.services("VA" + "0".repeat(32)).remove())).toMatchObject({ status: 404, code: 20404 });
    expect((await raw(`/Nothing/Here`)).json).toMatchObject({ code: 20404, status: 404 });
  });

  it("20404 (404) naming the resource for Twilio Verify resources verify-guard does not implement", async () => {
    const e = await restError(client.verify.v2.services(core).entities.list());
    expect(e).toMatchObject({ status: 404, code: 20404 });
    expect(e.message).toMatch(/Entities: this Twilio Verify resource is not implemented by verify-guard/);
    expect(await restError(client.verify.v2.services(core).webhooks.list())).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.templates.list())).toMatchObject({ status: 404, code: 20404 });
  });

  it("20429 (429, Retry-After): a service rate limit", async () => {
    const svc = await createService(s, { friendlyName: "Limited" });
    ok(await s.gql(`mutation($s: ID!) { setRateLimits(serviceId: $s, rateLimits: [{ uniqueName: "end_user_id", buckets: [{ max: 1, intervalSeconds: 600 }] }]) { uniqueName } }`, { s: svc }));
    await client.verify.v2.services(svc).verifications.create({ to: freshMobile(), channel: "sms", rateLimits: { end_user_id: "u-1" } });
    expect(await restError(client.verify.v2.services(svc).verifications.create({ to: freshMobile(), channel: "sms", rateLimits: { end_user_id: "u-1" } }))).toMatchObject({ status: 429, code: 20429 });
    const r = await raw(`/Services/${svc}/Verifications`, { form: { To: freshMobile(), Channel: "sms", RateLimits: JSON.stringify({ end_user_id: "u-1" }) } });
    expect(r).toMatchObject({ status: 429, json: { code: 20429 } });
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    // Another value has its own count.
    expect(await client.verify.v2.services(svc).verifications.create({ to: freshMobile(), channel: "sms", rateLimits: { end_user_id: "u-2" } })).toMatchObject({ status: "pending" });
  });

  it("20503 (503, Retry-After): the limiter store is down and the service fails closed", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const down = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    try {
      const svc = await createService(down, { friendlyName: "NoRedis" });
      const c = twilioClient(down, await accountSidOf(down), ADMIN_KEY);
      expect(await restError(c.verify.v2.services(svc).verifications.create({ to: freshMobile(), channel: "sms" }))).toMatchObject({ status: 503, code: 20503 });
      const res = await fetch(`${down.url}/v2/Services/${svc}/Verifications`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ To: freshMobile(), Channel: "sms" }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
    } finally {
      await down.close();
    }
  });

  it("20501 (501) naming a Twilio parameter verify-guard does not implement", async () => {
    const e = await restError(client.verify.v2.services(core).verifications.create({ to: freshMobile(), channel: "sms", templateSid: "HJ" + "0".repeat(32) }));
    expect(e).toMatchObject({ status: 501, code: 20501 });
    expect(e.message).toMatch(/`TemplateSid` is not supported by verify-guard/);
    expect(await restError(client.verify.v2.services.create({ friendlyName: "Push", "push.includeDate": true }))).toMatchObject({ status: 501, code: 20501 });
  });

  describe("bad input: a coded 4xx naming the parameter, and the server keeps serving", () => {
    const cases: [string, () => Promise<{ status: number; json: { code: number; message: string } }>, number, RegExp][] = [
      ["a missing To", () => raw(`/Services/${core}/Verifications`, { form: { Channel: "sms" } }), 400, /`To`: required/],
      ["an empty To", () => raw(`/Services/${core}/Verifications`, { form: { To: "", Channel: "sms" } }), 400, /`To`/],
      ["a missing Channel", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456" } }), 400, /`Channel`: required/],
      ["Channel=whatsapp", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "whatsapp" } }), 400, /`Channel`: "whatsapp" is not supported by verify-guard/],
      ["Channel=pigeon", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "pigeon" } }), 400, /`Channel`/],
      ["RateLimits that are not JSON", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "sms", RateLimits: "{end_user_id:" } }), 400, /`RateLimits`: must be JSON/],
      ["RateLimits that are a JSON list", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "sms", RateLimits: "[1,2]" } }), 400, /`RateLimits`: must be a JSON object/],
      ["RateLimits naming a limit the service lacks", () => raw(`/Services/${guarded}/Verifications`, { form: { To: freshMobile(), Channel: "sms", RateLimits: '{"nope":"1"}' } }), 400, /`RateLimits`: the service has no rate limit named "nope"/],
      ["an unknown parameter", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "sms", Chanel: "sms" } }), 400, /`Chanel`: unknown parameter/],
      ["a parameter given twice", () => raw(`/Services/${core}/Verifications`, { body: "To=%2B447400123456&Channel=sms&Channel=call" }), 400, /`Channel`: given more than once/],
      ["10 kB of Tags", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "sms", Tags: JSON.stringify({ note: "x".repeat(10_240) }) } }), 400, /`Tags`/],
      ["Tags that are not JSON", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "sms", Tags: "x".repeat(10_240) } }), 400, /`Tags`: must be JSON/],
      ["eleven Tags", () => raw(`/Services/${core}/Verifications`, { form: { To: freshMobile(), Channel: "sms", Tags: JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"]))) } }), 400, /`Tags`: at most 10/],
      ["a JSON body", () => raw(`/Services/${core}/Verifications`, { body: JSON.stringify({ To: "+447400123456", Channel: "sms" }), contentType: "application/json" }), 400, /`Content-Type`/],
      ["a text body", () => raw(`/Services/${core}/Verifications`, { body: "To=+447400123456", contentType: "text/plain" }), 400, /`Content-Type`/],
      ["a body over 64 kB", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "sms", Locale: "x".repeat(70_000) } }), 400, /`Body`: larger than 64kb/],
      ["a bad RiskCheck", () => raw(`/Services/${core}/Verifications`, { form: { To: "+447400123456", Channel: "sms", RiskCheck: "maybe" } }), 400, /`RiskCheck`: must be one of enable, disable/],
      ["a bad DeviceIp", () => raw(`/Services/${core}/Verifications`, { form: { To: freshMobile(), Channel: "sms", DeviceIp: "localhost" } }), 400, /`DeviceIp`/],
      ["a check without Code", () => raw(`/Services/${core}/VerificationCheck`, { form: { To: "+447400123456" } }), 400, /`Code`: required/],
      ["a check without To or VerificationSid", () => raw(`/Services/${core}/VerificationCheck`, { form: { Code: "123456" } }), 400, /`To`/],
      ["an update with Status=pending", () => raw(`/Services/${core}/Verifications/+447400123456`, { form: { Status: "pending" } }), 400, /`Status`: must be one of canceled, approved/],
      ["a CodeLength that is not a number", () => raw(`/Services`, { form: { FriendlyName: "X", CodeLength: "six" } }), 400, /`CodeLength`: must be an integer/],
      ["a CodeLength out of range", () => raw(`/Services`, { form: { FriendlyName: "X", CodeLength: "12" } }), 400, /`CodeLength`: must be an integer from 4 to 10/],
      ["a boolean that is not true or false", () => raw(`/Services`, { form: { FriendlyName: "X", LookupEnabled: "yes" } }), 400, /`LookupEnabled`: must be true or false/],
      ["a service without FriendlyName", () => raw(`/Services`, { form: { CodeLength: "6" } }), 400, /`FriendlyName`: required/],
      ["a PageSize of 0", () => raw(`/Services?PageSize=0`), 400, /`PageSize`/],
      ["an unknown query parameter", () => raw(`/Services?Foo=1`), 400, /`Foo`: unknown parameter/],
    ];

    it.each(cases)("%s", async (_what, send, status, message) => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.json).toMatchObject({ code: 60200, status });
      expect(r.json.message).toMatch(message);
      expect(JSON.stringify(r.json)).not.toMatch(INTERNALS);
      // The server keeps serving.
      expect(await client.verify.v2.services(core).verifications.create({ to: freshMobile(), channel: "sms" })).toMatchObject({ status: "pending" });
    });
  });
});
