import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, CHECK, codesSent, createCoreService, freshMobile, latestCode, ok, startServer, startVerification, VERIFICATION, type TestServer } from "./helpers/harness.js";
import { accountSidOf, restError, twilioClient, type TwilioClient } from "./helpers/twilio-client.js";
import { record, wsClient } from "./helpers/ws.js";

/**
 * The Twilio-compatible REST API driven by the official `twilio` SDK (through the README's two-line
 * `httpClient`): Twilio's own quick-start sample, and every Verifications / VerificationCheck call,
 * over the same domain as GraphQL (what one API does, the other sees).
 */

/** The response of Twilio's quick-start sample, as the seed document prints it (values are examples). */
const SEED_RESPONSE = {
  sid: "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  service_sid: "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  account_sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  to: "+15017122661",
  channel: "sms",
  status: "pending",
  valid: false,
  date_created: "2015-07-30T20:00:00Z",
  date_updated: "2015-07-30T20:00:00Z",
  lookup: {},
  amount: null,
  payee: null,
  send_code_attempts: [{ time: "2015-07-30T20:00:00Z", channel: "SMS", attempt_sid: "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }],
  sna: null,
  url: "https://verify.twilio.com/v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Verifications/VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const sid = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

describe("Verifications over the Twilio-compatible REST API", () => {
  let s: TestServer;
  let client: TwilioClient;
  let accountSid: string;
  let serviceSid: string;

  beforeAll(async () => {
    s = await startServer();
    accountSid = await accountSidOf(s);
    client = twilioClient(s, accountSid, ADMIN_KEY);
    serviceSid = await createCoreService(s, { friendlyName: "Acme" });
  });
  afterAll(async () => s?.close());

  it("runs Twilio's quick-start sample unchanged: pending, then approved and valid", async () => {
    // The sample, as in the issue: only the client construction points at verify-guard.
    const verification = await client.verify.v2.services(serviceSid).verifications.create({ channel: "sms", to: "+15017122661" });
    expect(verification.sid).toMatch(sid("VE"));
    expect(verification.status).toBe("pending");
    const code = await latestCode(s, "+15017122661");
    const check = await client.verify.v2.services(serviceSid).verificationChecks.create({ to: "+15017122661", code });
    expect(check.status).toBe("approved");
    expect(check.valid).toBe(true);
  });

  it("answers a start with exactly the fields of Twilio's sample response, in Twilio's formats, with 201", async () => {
    const to = freshMobile();
    const res = await fetch(`${s.url}/v2/Services/${serviceSid}/Verifications`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${ADMIN_KEY}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ To: to, Channel: "sms" }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown> & { send_code_attempts: Record<string, unknown>[] };
    expect(Object.keys(body).sort()).toEqual(Object.keys(SEED_RESPONSE).sort());
    expect(Object.keys(body.send_code_attempts[0]!).sort()).toEqual(Object.keys(SEED_RESPONSE.send_code_attempts[0]!).sort());
    expect(body).toMatchObject({ service_sid: serviceSid, account_sid: accountSid, to, channel: "sms", status: "pending", valid: false, amount: null, payee: null, sna: null });
    expect(body.sid).toMatch(sid("VE"));
    expect(body.date_created).toMatch(ISO_SECONDS);
    expect(body.date_updated).toMatch(ISO_SECONDS);
    expect(body.send_code_attempts).toEqual([{ time: expect.stringMatching(ISO_SECONDS), channel: "SMS", attempt_sid: expect.stringMatching(sid("VL")) }]);
    expect(body.url).toBe(`${s.url}/v2/Services/${serviceSid}/Verifications/${body.sid}`);
    expect(body.lookup).toEqual({ carrier: { error_code: null, name: null, mobile_country_code: null, mobile_network_code: null, type: "mobile" }, country_code: "GB" });
  });

  it("starts through the same domain as GraphQL: the code arrives in the outbox and GraphQL reads the verification", async () => {
    const to = freshMobile();
    const v = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "call", locale: "fr", customFriendlyName: "Boutique" });
    expect(v).toMatchObject({ channel: "call", status: "pending", to });
    const [code] = await codesSent(s, to);
    expect(code).toMatch(/^\d{6}$/);
    const gql = ok(await s.gql<{ verification: { id: string; status: string; channel: string } }>(VERIFICATION, { serviceId: serviceSid, id: v.sid }));
    expect(gql.verification).toMatchObject({ id: v.sid, status: "PENDING", channel: "CALL" });
    const outbox = ok(await s.gql<{ outboxMessages: { body: string }[] }>(`query($to: String) { outboxMessages(to: $to) { body } }`, { to }));
    expect(outbox.outboxMessages[0]!.body).toContain("Boutique");
  });

  it("resends on a second start for the same number: one more send attempt, the same code", async () => {
    const to = freshMobile();
    const first = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const second = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    expect(second.sid).toBe(first.sid);
    expect(second.sendCodeAttempts).toHaveLength(2);
    const codes = await codesSent(s, to);
    expect(codes).toHaveLength(2);
    expect(codes[0]).toBe(codes[1]);
  });

  it("fetches a verification by its VE sid and by its number (To), and another service's answers 20404", async () => {
    const to = freshMobile();
    const v = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const bySid = await client.verify.v2.services(serviceSid).verifications(v.sid).fetch();
    const byTo = await client.verify.v2.services(serviceSid).verifications(to).fetch();
    expect(bySid).toMatchObject({ sid: v.sid, status: "pending", to, accountSid, serviceSid });
    expect(byTo.sid).toBe(v.sid);
    const other = await createCoreService(s, { friendlyName: "Other" });
    expect(await restError(client.verify.v2.services(other).verifications(v.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.services(serviceSid).verifications(freshMobile()).fetch())).toMatchObject({ status: 404, code: 20404 });
  });

  it("cancels with Status=canceled: the code stops working (20404), as Twilio answers", async () => {
    const to = freshMobile();
    const v = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const code = await latestCode(s, to);
    const canceled = await client.verify.v2.services(serviceSid).verifications(v.sid).update({ status: "canceled" });
    expect(canceled).toMatchObject({ sid: v.sid, status: "canceled", valid: false });
    expect(await restError(client.verify.v2.services(serviceSid).verificationChecks.create({ to, code }))).toMatchObject({ status: 404, code: 20404 });
    expect(await restError(client.verify.v2.services(serviceSid).verifications(v.sid).update({ status: "canceled" }))).toMatchObject({ status: 404, code: 20404 });
  });

  it("approves by hand with Status=approved (by number, as Twilio allows): approved and valid, counted as converted", async () => {
    const to = freshMobile();
    const v = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const approved = await client.verify.v2.services(serviceSid).verifications(to).update({ status: "approved" });
    expect(approved).toMatchObject({ sid: v.sid, status: "approved", valid: true });
    const gql = ok(await s.gql<{ verification: { status: string; valid: boolean } }>(VERIFICATION, { serviceId: serviceSid, id: v.sid }));
    expect(gql.verification).toMatchObject({ status: "APPROVED", valid: true });
    const attempts = ok(
      await s.gql<{ verificationAttempts: { edges: { node: { converted: boolean; kind: string } }[] } }>(
        `query($f: VerificationAttemptFilter) { verificationAttempts(filter: $f) { edges { node { converted kind } } } }`,
        { f: { serviceId: serviceSid, to } },
      ),
    );
    expect(attempts.verificationAttempts.edges.map((e) => e.node)).toEqual([{ converted: true, kind: "START" }]);
  });

  it("checks by VerificationSid: a wrong code stays pending (valid false), the right one approves, a third check is 20404", async () => {
    const to = freshMobile();
    const v = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const code = await latestCode(s, to);
    const wrong = await client.verify.v2.services(serviceSid).verificationChecks.create({ verificationSid: v.sid, code: code === "000000" ? "111111" : "000000" });
    expect(wrong).toMatchObject({ sid: v.sid, status: "pending", valid: false, channel: "sms", to, accountSid });
    const right = await client.verify.v2.services(serviceSid).verificationChecks.create({ verificationSid: v.sid, code });
    expect(right).toMatchObject({ sid: v.sid, status: "approved", valid: true });
    expect(await restError(client.verify.v2.services(serviceSid).verificationChecks.create({ verificationSid: v.sid, code }))).toMatchObject({ status: 404, code: 20404 });
  });

  it("checks a verification started over GraphQL, and GraphQL checks one started over REST", async () => {
    const a = freshMobile();
    await startVerification(s, { serviceId: serviceSid, to: a });
    const codeA = await latestCode(s, a);
    expect(await client.verify.v2.services(serviceSid).verificationChecks.create({ to: a, code: codeA })).toMatchObject({ status: "approved" });

    const b = freshMobile();
    await client.verify.v2.services(serviceSid).verifications.create({ to: b, channel: "sms" });
    const codeB = await latestCode(s, b);
    expect(ok(await s.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId: serviceSid, to: b, code: codeB } })).checkVerification.status).toBe("APPROVED");
  });

  it("carries PSD2 Amount and Payee: the check must present the same pair", async () => {
    const psd2 = await createCoreService(s, { friendlyName: "Bank", psd2Enabled: true });
    const to = freshMobile();
    const v = await client.verify.v2.services(psd2).verifications.create({ to, channel: "sms", amount: "€39.99", payee: "Acme Inc." });
    expect(v).toMatchObject({ amount: "€39.99", payee: "Acme Inc." });
    const code = await latestCode(s, to);
    expect(await client.verify.v2.services(psd2).verificationChecks.create({ to, code, amount: "€39.99", payee: "Evil Inc." })).toMatchObject({ status: "pending", valid: false });
    expect(await client.verify.v2.services(psd2).verificationChecks.create({ to, code, amount: "€39.99", payee: "Acme Inc." })).toMatchObject({ status: "approved", valid: true, amount: "€39.99", payee: "Acme Inc." });
  });

  it("shows an empty lookup on a service with LookupEnabled=false", async () => {
    const quiet = await client.verify.v2.services.create({ friendlyName: "Quiet", lookupEnabled: false });
    const v = await client.verify.v2.services(quiet.sid).verifications.create({ to: freshMobile(), channel: "sms" });
    expect(v.lookup).toEqual({});
  });

  it("is watched live over GraphQL: a REST start, check and cancel reach graphql-ws subscribers", async () => {
    const ws = wsClient(s, ADMIN_KEY);
    try {
      type Ev = { type: string; verificationId: string | null; status: string | null; channel: string | null };
      const events = record<{ verificationEvents: Ev }>(ws, `subscription($s: ID!) { verificationEvents(serviceId: $s) { type verificationId status channel } }`, { s: serviceSid });
      await events.waitFor(1);
      const to = freshMobile();
      const v = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
      const mine = record<{ verificationUpdated: Ev }>(ws, `subscription($id: ID!) { verificationUpdated(verificationId: $id) { type verificationId status channel } }`, { id: v.sid });
      await mine.waitFor(1);
      const code = await latestCode(s, to);
      await client.verify.v2.services(serviceSid).verificationChecks.create({ to, code: code === "000000" ? "111111" : "000000" });
      await client.verify.v2.services(serviceSid).verificationChecks.create({ to, code });
      const updates = (await mine.waitFor(3)).map((r) => r.data!.verificationUpdated);
      expect(updates.map((e) => [e.type, e.status])).toEqual([
        ["SUBSCRIBED", "PENDING"],
        ["CHECK_FAILED", "PENDING"],
        ["APPROVED", "APPROVED"],
      ]);
      const all = (await events.waitFor(4)).map((r) => r.data!.verificationEvents).filter((e) => e.verificationId === v.sid);
      expect(all.map((e) => e.type)).toEqual(expect.arrayContaining(["CREATED", "CHECK_FAILED", "APPROVED"]));
      expect(all[0]).toMatchObject({ type: "CREATED", status: "PENDING", channel: "SMS" });
    } finally {
      await ws.dispose();
    }
  });
});

describe("consent evidence over the REST API", () => {
  let s: TestServer;
  let accountSid: string;
  let serviceSid: string;
  const post = (path: string, form: Record<string, string>) =>
    fetch(`${s.url}/v2${path}`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${ADMIN_KEY}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });

  beforeAll(async () => {
    s = await startServer();
    accountSid = await accountSidOf(s);
    const created = await post("/Services", { FriendlyName: "Signup", RequireConsent: "true" });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { sid: string; require_consent: boolean };
    expect(body.require_consent).toBe(true);
    serviceSid = body.sid;
  });
  afterAll(async () => s?.close());

  it("refuses a start without consent on a service that requires it: 400, 60200", async () => {
    const r = await post(`/Services/${serviceSid}/Verifications`, { To: freshMobile(), Channel: "sms" });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ code: 60200, message: expect.stringMatching(/ConsentTextVersion and ConsentAgreedAt/) });
  });

  it("records ConsentTextVersion, ConsentAgreedAt and ConsentUserAgent as a consent record GraphQL lists", async () => {
    const to = freshMobile();
    const agreedAt = new Date(Date.now() - 1000).toISOString();
    const r = await post(`/Services/${serviceSid}/Verifications`, { To: to, Channel: "sms", ConsentTextVersion: "tos-7", ConsentAgreedAt: agreedAt, ConsentUserAgent: "App/1.0" });
    expect(r.status).toBe(201);
    const sid = ((await r.json()) as { sid: string }).sid;
    const page = ok(await s.gql<{ consentRecords: { records: unknown[] } }>(`query($to: String) { consentRecords(to: $to) { records { verificationId textVersion agreedAt userAgent } } }`, { to }));
    expect(page.consentRecords.records).toEqual([{ verificationId: sid, textVersion: "tos-7", agreedAt, userAgent: "App/1.0" }]);
  });

  it.each([
    [{ ConsentAgreedAt: new Date().toISOString() }, "ConsentTextVersion"],
    [{ ConsentTextVersion: "tos-7" }, "ConsentAgreedAt"],
    [{ ConsentTextVersion: "tos-7", ConsentAgreedAt: "yesterday" }, "ConsentAgreedAt"],
    [{ ConsentTextVersion: "tos-7", ConsentAgreedAt: "2020-01-01T00:00:00Z" }, "ConsentAgreedAt"],
    [{ ConsentTextVersion: "x".repeat(65), ConsentAgreedAt: new Date().toISOString() }, "ConsentTextVersion"],
  ])("names the parameter of bad consent %j in a 60200", async (form, param) => {
    const r = await post(`/Services/${serviceSid}/Verifications`, { To: freshMobile(), Channel: "sms", ...form });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toContain(`\`${param}\``);
  });
});
