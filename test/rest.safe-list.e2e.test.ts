import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, createService, ok, startServer, type TestServer } from "./helpers/harness.js";
import { accountSidOf, restError, twilioClient, type TwilioClient } from "./helpers/twilio-client.js";

/** `/v2/SafeList/Numbers` through the `twilio` SDK: the safe list the risk pipeline reads, as GraphQL manages it. */
describe("The safe list over the Twilio-compatible REST API", () => {
  let s: TestServer;
  let client: TwilioClient;
  const NIGERIA = "+2348031234567"; // blocked by the default geo permissions

  beforeAll(async () => {
    s = await startServer();
    client = twilioClient(s, await accountSidOf(s), ADMIN_KEY);
  });
  afterAll(async () => s?.close());

  it("adds a number, fetches it, and the fraud stages let it through; removing it blocks it again", async () => {
    const serviceSid = await createService(s, { friendlyName: "Geo" });
    expect(await restError(client.verify.v2.services(serviceSid).verifications.create({ to: NIGERIA, channel: "sms" }))).toMatchObject({ status: 403, code: 60605 });

    const added = await client.verify.v2.safelist.create({ phoneNumber: NIGERIA });
    expect(added).toMatchObject({ phoneNumber: NIGERIA, url: `${s.url}/v2/SafeList/Numbers/%2B2348031234567` });
    expect(added.sid).toMatch(/^GN[0-9a-f]{32}$/);
    expect(await client.verify.v2.safelist(NIGERIA).fetch()).toMatchObject({ sid: added.sid, phoneNumber: NIGERIA });
    const gql = ok(await s.gql<{ safeNumbers: { number: string }[] }>(`{ safeNumbers { number } }`)).safeNumbers;
    expect(gql.map((n) => n.number)).toContain(NIGERIA);

    expect(await client.verify.v2.services(serviceSid).verifications.create({ to: NIGERIA, channel: "sms" })).toMatchObject({ status: "pending" });

    expect(await client.verify.v2.safelist(NIGERIA).remove()).toBe(true);
    expect(await restError(client.verify.v2.safelist(NIGERIA).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.safelist(NIGERIA).remove())).toMatchObject({ status: 404, code: 20404 });
    await client.verify.v2.services(serviceSid).verifications(NIGERIA).update({ status: "canceled" });
    expect(await restError(client.verify.v2.services(serviceSid).verifications.create({ to: NIGERIA, channel: "sms" }))).toMatchObject({ status: 403, code: 60605 });
  });

  it("refuses a number that is not E.164, naming PhoneNumber", async () => {
    const e = await restError(client.verify.v2.safelist.create({ phoneNumber: "12345" }));
    expect(e).toMatchObject({ status: 400, code: 60200 });
    expect(e.message).toMatch(/`PhoneNumber`/);
    expect(await restError(client.verify.v2.safelist("not-a-number").fetch())).toMatchObject({ status: 400, code: 60200 });
  });
});
