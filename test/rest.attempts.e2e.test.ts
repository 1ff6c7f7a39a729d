import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, createClientKey, createCoreService, freshMobile, latestCode, ok, startServer, type TestServer } from "./helpers/harness.js";
import { accountSidOf, restError, twilioClient, type TwilioClient } from "./helpers/twilio-client.js";

/**
 * `/v2/Attempts` and `/v2/Attempts/Summary` through the `twilio` SDK: every send (first or resend) is
 * one attempt with the VL… SID its verification lists in send_code_attempts, paged with Twilio's meta
 * so `.each()` walks all of them, filtered as Twilio's, and summed up as GraphQL's summary does.
 */
describe("Verification attempts over the Twilio-compatible REST API", () => {
  let s: TestServer;
  let client: TwilioClient;
  let serviceSid: string;
  let otherSid: string;
  const sends: { sid: string; attemptSid: string; to: string }[] = [];

  beforeAll(async () => {
    s = await startServer();
    client = twilioClient(s, await accountSidOf(s), ADMIN_KEY);
    serviceSid = await createCoreService(s, { friendlyName: "Busy" });
    otherSid = await createCoreService(s, { friendlyName: "Other" });
    for (let i = 0; i < 120; i++) {
      const to = freshMobile();
      const v = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: i % 10 === 0 ? "call" : "sms" });
      sends.push({ sid: v.sid, attemptSid: v.sendCodeAttempts[0]!.attempt_sid as string, to });
    }
    await client.verify.v2.services(otherSid).verifications.create({ to: freshMobile(), channel: "sms" });
  }, 60_000);
  afterAll(async () => s?.close());

  it("pages through all 120 attempts of a service with .each(), newest first, each once", async () => {
    const seen: string[] = [];
    await client.verify.v2.verificationAttempts.each({ verifyServiceSid: serviceSid, pageSize: 25 }, (a) => void seen.push(a.sid));
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    expect(seen).toEqual(sends.map((x) => x.attemptSid).reverse());
    expect((await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid })).map((a) => a.sid)).toEqual(seen);
    // .list({ limit }) asks for one page of `limit` rows; a page holds at most 100, and the SDK follows next_page_url for the rest.
    expect((await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, limit: 110 })).map((a) => a.sid)).toEqual(seen.slice(0, 110));
  });

  it("answers Twilio's paging meta: next_page_url carries a PageToken, the last page has none", async () => {
    const first = await client.verify.v2.verificationAttempts.page({ verifyServiceSid: serviceSid, pageSize: 50 });
    expect(first.instances).toHaveLength(50);
    expect(first.nextPageUrl).toMatch(new RegExp(`^${s.url}/v2/Attempts\\?VerifyServiceSid=${serviceSid}&PageSize=50&Page=1&PageToken=`));
    const second = await first.nextPage();
    const third = await second!.nextPage();
    expect(third!.instances).toHaveLength(20);
    expect(third!.nextPageUrl).toBeUndefined();
    const res = await client.request({ method: "get", uri: `https://verify.twilio.com/v2/Attempts?VerifyServiceSid=${serviceSid}&PageSize=100` });
    expect(res.body).toMatchObject({ meta: { page: 0, page_size: 100, key: "attempts", previous_page_url: null, first_page_url: `${s.url}/v2/Attempts?VerifyServiceSid=${serviceSid}&PageSize=100&Page=0` } });
  });

  it("shows an attempt as Twilio does, and fetches it by the attempt_sid of its verification", async () => {
    const { attemptSid, sid, to } = sends[7]!;
    const a = await client.verify.v2.verificationAttempts(attemptSid).fetch();
    expect(a).toMatchObject({ sid: attemptSid, serviceSid, verificationSid: sid, conversionStatus: "unconverted", channel: "sms", channelData: { to }, url: `${s.url}/v2/Attempts/${attemptSid}` });
    expect(a.dateCreated).toBeInstanceOf(Date);
    expect(await restError(client.verify.v2.verificationAttempts("VL" + "0".repeat(32)).fetch())).toMatchObject({ status: 404, code: 20404 });
  });

  it("filters by number, verification, channel, conversion, country and time", async () => {
    const { to, sid } = sends[3]!;
    const code = await latestCode(s, to);
    await client.verify.v2.services(serviceSid).verificationChecks.create({ to, code });
    await client.verify.v2.services(serviceSid).verifications(sends[4]!.sid).update({ status: "approved" });

    expect((await client.verify.v2.verificationAttempts.list({ "channelData.to": to })).map((a) => a.verificationSid)).toEqual([sid]);
    expect((await client.verify.v2.verificationAttempts.list({ verificationSid: sid })).map((a) => a.conversionStatus)).toEqual(["converted"]);
    const converted = await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, status: "converted" });
    expect(converted.map((a) => a.verificationSid).sort()).toEqual([sends[3]!.sid, sends[4]!.sid].sort());
    expect(await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, channel: "call" })).toHaveLength(12);
    expect(await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, channel: "whatsapp" })).toHaveLength(0);
    expect(await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, country: "GB" })).toHaveLength(120);
    expect(await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, country: "US" })).toHaveLength(0);
    expect(await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, dateCreatedAfter: new Date(Date.now() + 60_000) })).toHaveLength(0);
    expect(await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid, dateCreatedBefore: new Date(Date.now() + 60_000) })).toHaveLength(120);
    // Every service's attempts without the service filter.
    expect((await client.verify.v2.verificationAttempts.list()).length).toBe(121);
  });

  it("sums them up in Attempts/Summary as GraphQL's verificationAttemptsSummary does", async () => {
    const summary = await client.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: serviceSid });
    const gql = ok(await s.gql<{ verificationAttemptsSummary: { totalAttempts: number; totalConverted: number } }>(`query($s: ID) { verificationAttemptsSummary(serviceId: $s) { totalAttempts totalConverted } }`, { s: serviceSid }));
    expect(summary).toMatchObject({ totalAttempts: gql.verificationAttemptsSummary.totalAttempts, totalConverted: gql.verificationAttemptsSummary.totalConverted });
    expect(summary).toMatchObject({ totalAttempts: 120, totalConverted: 2, totalUnconverted: 118, conversionRatePercentage: "1.67", url: `${s.url}/v2/Attempts/Summary` });
    expect(await client.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: serviceSid, channel: "call" })).toMatchObject({ totalAttempts: 12 });
    expect(await client.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: serviceSid, destinationPrefix: "+44" })).toMatchObject({ totalAttempts: 120, totalConverted: 2 });
    expect(await client.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: serviceSid, destinationPrefix: "+1" })).toMatchObject({ totalAttempts: 0, conversionRatePercentage: "0.00" });
    expect(await client.verify.v2.verificationAttemptsSummary().fetch({ country: "GB" })).toMatchObject({ totalAttempts: 121 });
    expect(await restError(client.verify.v2.verificationAttemptsSummary().fetch({ destinationPrefix: "+4474001234" }))).toMatchObject({ status: 400, code: 60200 });
  });

  it("is for admin keys only (403 / 20403 for a client key)", async () => {
    const key = await createClientKey(s, serviceSid);
    const keys = ok(await s.gql<{ apiKeys: { id: string; sid: string }[] }>(`{ apiKeys { id sid } }`)).apiKeys;
    const sk = keys.find((k) => k.id === key.id)!.sid;
    const asClient = twilioClient(s, sk, key.secret, await accountSidOf(s));
    expect(await restError(asClient.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceSid }))).toMatchObject({ status: 403, code: 20403 });
    expect(await restError(asClient.verify.v2.verificationAttemptsSummary().fetch())).toMatchObject({ status: 403, code: 20403 });
    expect(await restError(asClient.verify.v2.verificationAttempts(sends[0]!.attemptSid).fetch())).toMatchObject({ status: 403, code: 20403 });
  });

  it("refuses a Page without a PageToken and a malformed PageToken, naming them", async () => {
    const r1 = await client.request({ method: "get", uri: `https://verify.twilio.com/v2/Attempts?Page=2` });
    expect(r1).toMatchObject({ statusCode: 400, body: { code: 60200 } });
    expect((r1.body as { message: string }).message).toMatch(/`Page`/);
    const r2 = await client.request({ method: "get", uri: `https://verify.twilio.com/v2/Attempts?PageToken=nonsense&Page=1` });
    expect(r2).toMatchObject({ statusCode: 400, body: { code: 60200 } });
    expect((r2.body as { message: string }).message).toMatch(/`PageToken`/);
    const r3 = await client.request({ method: "get", uri: `https://verify.twilio.com/v2/Attempts?DateCreatedAfter=yesterday` });
    expect((r3.body as { message: string }).message).toMatch(/`DateCreatedAfter`/);
    void freshMobile;
  });
});
