import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { describeDelivery } from "../src/delivery/twilio.js";
import { OUTBOX, START, createCoreService, errorOf, freshMobile, latestCode, ok, queryDb, startServer, startVerification, type TestServer } from "./helpers/harness.js";

const UPDATE_SERVICE = `mutation($id: ID!, $input: UpdateServiceInput!) { updateService(id: $id, input: $input) { id smsEnabled callEnabled } }`;

/** Channels per service, and the local outbox (no Twilio credentials) going through the same durable jobs. */
describe("delivery channels and the outbox", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  const jobCount = () => queryDb<{ n: number }>(s, "select count(*) as n from delivery_jobs")[0]!.n;

  it.each([
    ["SMS", { smsEnabled: false }],
    ["CALL", { callEnabled: false }],
  ] as const)("refuses %s on a service that disabled it with CHANNEL_DISABLED (60223), and queues nothing", async (channel, settings) => {
    const serviceId = await createCoreService(s, settings);
    const jobs = jobCount();
    const r = await s.gql(START, { input: { serviceId, to: freshMobile(), channel } });
    expect(errorOf(r)).toMatchObject({ code: "CHANNEL_DISABLED", errorCode: 60223 });
    expect(errorOf(r).message).toContain(channel);
    expect(jobCount()).toBe(jobs);
  });

  it("still sends on the channel that stays enabled, and follows a service update", async () => {
    const serviceId = await createCoreService(s, { callEnabled: false });
    const to = freshMobile();
    await startVerification(s, { serviceId, to, channel: "SMS" });
    expect(await latestCode(s, to)).toMatch(/^\d{6}$/);

    ok(await s.gql(UPDATE_SERVICE, { id: serviceId, input: { callEnabled: true, smsEnabled: false } }));
    const call = await s.gql(START, { input: { serviceId, to: freshMobile(), channel: "CALL" } });
    expect(call.errors).toBeUndefined();
    const sms = await s.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } });
    expect(errorOf(sms).code).toBe("CHANNEL_DISABLED");
  });

  it("delivers to the outbox through a durable job that holds the code only sealed, and drops it once sent", async () => {
    // Ten digits: no timestamp or id in the database can contain the code by chance.
    const serviceId = await createCoreService(s, { codeLength: 10 });
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    expect(code).toMatch(/^\d{10}$/);

    const [job] = queryDb<{ status: string; sealed_code: string | null; channel: string }>(s, "select status, sealed_code, channel from delivery_jobs where verification_id = ?", v.id);
    expect(job).toEqual({ status: "sent", sealed_code: null, channel: "SMS" });
    const tables = queryDb<{ name: string }>(s, "select name from sqlite_master where type = 'table'").map((t) => t.name);
    for (const table of tables) expect(JSON.stringify(queryDb(s, `select * from "${table}"`))).not.toContain(code);
  });

  it("keeps the code sealed in a job that has not been sent yet", async () => {
    const w = await startServer({ deliveryWorker: false });
    try {
      const serviceId = await createCoreService(w, { codeLength: 10 });
      const v = await startVerification(w, { serviceId, to: freshMobile() });
      const [job] = queryDb<{ status: string; sealed_code: string }>(w, "select status, sealed_code from delivery_jobs where verification_id = ?", v.id);
      expect(job!.status).toBe("pending");
      expect(job!.sealed_code).toMatch(/^v1\./);
      // No worker, no message: the outbox is empty although the start succeeded.
      const out = ok(await w.gql<{ outboxMessages: unknown[] }>(OUTBOX, {}));
      expect(out.outboxMessages).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it("sends a resend in the language it asks for, with the same code", async () => {
    const serviceId = await createCoreService(s);
    const to = freshMobile();
    await startVerification(s, { serviceId, to, locale: "en" });
    const first = await latestCode(s, to);
    await startVerification(s, { serviceId, to, locale: "de" });
    await s.app.dispatcher.idle();
    const bodies = ok(await s.gql<{ outboxMessages: { body: string }[] }>(OUTBOX, { to })).outboxMessages.map((m) => m.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toBe(`Ihr Acme-Bestätigungscode lautet: ${first}. Er läuft in 10 Minuten ab. Geben Sie diesen Code an niemanden weiter.`);
    expect(bodies[1]).toContain(`Your Acme verification code is: ${first}.`);
  });

  it("uses the service's own SMS template and adds the warning it lacks", async () => {
    const serviceId = await createCoreService(s, { smsTemplate: "{code} is your {friendlyName} code" });
    const to = freshMobile();
    await startVerification(s, { serviceId, to, locale: "pt-BR" });
    await s.app.dispatcher.idle();
    const [msg] = ok(await s.gql<{ outboxMessages: { body: string }[] }>(OUTBOX, { to })).outboxMessages;
    expect(msg!.body).toMatch(/^\d{6} is your Acme code Não compartilhe este código com ninguém\.$/);
  });
});

describe("the start-up line about delivery", () => {
  const base = { DATABASE_URL: "file::memory:", CODE_SECRET: "x".repeat(32), NODE_ENV: "test" };

  it("says the outbox is in use when no Twilio credentials are set", () => {
    expect(describeDelivery(loadConfig(base))).toMatch(/^local outbox \(no Twilio credentials set/);
  });

  it("says Twilio, the sender and where callbacks go when they are set", () => {
    const config = loadConfig({ ...base, TWILIO_ACCOUNT_SID: "AC" + "0".repeat(32), TWILIO_AUTH_TOKEN: "t", TWILIO_FROM: "+15005550006", PUBLIC_URL: "https://verify.example.test/" });
    expect(describeDelivery(config)).toBe("Twilio (api.twilio.com; SMS from +15005550006; status callbacks at https://verify.example.test/webhooks/twilio/status)");
  });

  it("refuses Twilio credentials without a sender", () => {
    expect(() => loadConfig({ ...base, TWILIO_ACCOUNT_SID: "AC" + "0".repeat(32), TWILIO_AUTH_TOKEN: "t" })).toThrow(/TWILIO_FROM/);
  });
});
