import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, freshMobile, ok, startServer, type TestServer } from "./helpers/harness.js";
import { accountSidOf, restError, twilioClient, type TwilioClient } from "./helpers/twilio-client.js";

/** `/v2/Services` through the `twilio` SDK: create, fetch, update, list (paged) and delete, over the domain GraphQL uses. */
describe("Services over the Twilio-compatible REST API", () => {
  let s: TestServer;
  let client: TwilioClient;
  let accountSid: string;

  beforeAll(async () => {
    s = await startServer();
    accountSid = await accountSidOf(s);
    client = twilioClient(s, accountSid, ADMIN_KEY);
  });
  afterAll(async () => s?.close());

  it("creates a service with Twilio's settings and their defaults, and GraphQL reads the same service", async () => {
    const created = await client.verify.v2.services.create({ friendlyName: "Acme", codeLength: 8, psd2Enabled: true, doNotShareWarningEnabled: false, customCodeEnabled: true, skipSmsToLandlines: true });
    expect(created).toMatchObject({
      accountSid,
      friendlyName: "Acme",
      codeLength: 8,
      lookupEnabled: true,
      psd2Enabled: true,
      doNotShareWarningEnabled: false,
      customCodeEnabled: true,
      skipSmsToLandlines: true,
      dtmfInputRequired: false,
      url: `${s.url}/v2/Services/${created.sid}`,
    });
    expect(created.sid).toMatch(/^VA[0-9a-f]{32}$/);
    expect(created.dateCreated).toBeInstanceOf(Date);
    expect(created.links).toMatchObject({ verifications: `${s.url}/v2/Services/${created.sid}/Verifications`, rate_limits: `${s.url}/v2/Services/${created.sid}/RateLimits` });
    const gql = ok(await s.gql<{ service: Record<string, unknown> }>(`query($id: ID!) { service(id: $id) { friendlyName codeLength lookupEnabled psd2Enabled doNotShareWarningEnabled customCodeEnabled skipSmsToLandlines ttlSeconds } }`, { id: created.sid }));
    expect(gql.service).toEqual({ friendlyName: "Acme", codeLength: 8, lookupEnabled: true, psd2Enabled: true, doNotShareWarningEnabled: false, customCodeEnabled: true, skipSmsToLandlines: true, ttlSeconds: 600 });
  });

  it("sends the do-not-share warning only while the service has it on", async () => {
    const svc = await client.verify.v2.services.create({ friendlyName: "Warned" });
    const to = freshMobile();
    await client.verify.v2.services(svc.sid).verifications.create({ to, channel: "sms" });
    await client.verify.v2.services(svc.sid).update({ doNotShareWarningEnabled: false });
    await client.verify.v2.services(svc.sid).verifications.create({ to, channel: "sms" });
    await s.app.dispatcher.idle();
    const bodies = ok(await s.gql<{ outboxMessages: { body: string }[] }>(`query($to: String) { outboxMessages(to: $to) { body } }`, { to })).outboxMessages.map((m) => m.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain("Do not share this code");
    expect(bodies[0]).not.toContain("Do not share");
    expect(bodies[0]).toMatch(/^Your Warned verification code is: \d{6}\. It expires in 10 minutes\.$/);
  });

  it("fetches and updates a service; verify-guard's own settings go through client.request", async () => {
    const svc = await client.verify.v2.services.create({ friendlyName: "Before" });
    const updated = await client.verify.v2.services(svc.sid).update({ friendlyName: "After", codeLength: 4, lookupEnabled: false });
    expect(updated).toMatchObject({ sid: svc.sid, friendlyName: "After", codeLength: 4, lookupEnabled: false });
    expect(await client.verify.v2.services(svc.sid).fetch()).toMatchObject({ friendlyName: "After", codeLength: 4 });

    const res = await client.request({ method: "post", uri: `https://verify.twilio.com/v2/Services/${svc.sid}`, data: { TtlSeconds: 300, MaxCheckAttempts: 3, CallEnabled: false } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ ttl_seconds: 300, max_check_attempts: 3, call_enabled: false, friendly_name: "After" });
  });

  it("lists every service across pages, as .list(), .each() and .page() read them", async () => {
    for (let i = 0; i < 5; i++) await client.verify.v2.services.create({ friendlyName: `Paged ${i}` });
    const all = await client.verify.v2.services.list();
    const paged = await client.verify.v2.services.list({ pageSize: 2 });
    expect(paged.map((x) => x.sid)).toEqual(all.map((x) => x.sid));
    expect(all.length).toBeGreaterThanOrEqual(7);
    const seen: string[] = [];
    await client.verify.v2.services.each({ pageSize: 3 }, (svc) => void seen.push(svc.sid));
    expect(seen).toEqual(all.map((x) => x.sid));
    const first = await client.verify.v2.services.page({ pageSize: 2 });
    expect(first.instances).toHaveLength(2);
    const second = await first.nextPage();
    expect(second!.instances.map((x) => x.sid)).toEqual(all.slice(2, 4).map((x) => x.sid));
  });

  it("deletes a service (204) and then answers 20404 for it", async () => {
    const svc = await client.verify.v2.services.create({ friendlyName: "Doomed" });
    expect(await client.verify.v2.services(svc.sid).remove()).toBe(true);
    expect(await restError(client.verify.v2.services(svc.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.services(svc.sid).verifications.create({ to: freshMobile(), channel: "sms" }))).toMatchObject({ status: 404, code: 20404 });
  });
});
