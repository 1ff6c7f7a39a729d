import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK, createCoreService, freshMobile, ok, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { TwilioStandin, twilioEnv } from "./helpers/twilio-standin.js";

/**
 * The real `twilio` SDK, routed by TWILIO_API_BASE_URL to a local stand-in for Twilio's REST API:
 * what exactly goes over the wire for SMS and calls, and that a start never waits on Twilio.
 */
describe("Twilio delivery: the requests the SDK sends", () => {
  const standin = new TwilioStandin();
  let s: TestServer;
  let serviceId: string;

  beforeAll(async () => {
    await standin.start();
    s = await startServer({ env: twilioEnv(standin) });
    serviceId = await createCoreService(s, { friendlyName: "Acme" });
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
  });

  it("sends an SMS through the Messages API with Basic auth, the sender, the localized text and a status callback", async () => {
    const to = freshMobile();
    const before = standin.requests.length;
    const v = await startVerification(s, { serviceId, to, channel: "SMS", locale: "es" });
    await s.app.dispatcher.idle();

    const sent = standin.requests.slice(before);
    expect(sent).toHaveLength(1);
    const req = sent[0]!;
    expect(req).toMatchObject({ method: "POST", path: `/2010-04-01/Accounts/${standin.accountSid}/Messages.json`, user: standin.accountSid, password: standin.authToken });
    expect(req.contentType).toBe("application/x-www-form-urlencoded");
    expect(req.userAgent).toMatch(/^twilio-node\//);
    expect(req.idempotencyToken).toMatch(/^DJ[0-9a-f]{32}$/);
    expect(Object.keys(req.form).sort()).toEqual(["Body", "From", "StatusCallback", "To"]);
    expect(req.form.To).toBe(to);
    expect(req.form.From).toBe("+15005550006");
    expect(req.form.StatusCallback).toBe(`https://verify.example.test/webhooks/twilio/status?attempt=${v.sendCodeAttempts[0]!.id}`);
    const body = req.form.Body as string;
    expect(body).toMatch(/^Tu código de verificación de Acme es: \d{6}\. Caduca en 10 minutos\. No compartas este código con nadie\.$/);

    // The code Twilio was asked to deliver is the one the verification accepts.
    const code = /(\d{6})/.exec(body)![1]!;
    const checked = ok(await s.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId, to, code } })).checkVerification;
    expect(checked.status).toBe("APPROVED");

    const [attempt] = await s.app.services.store.listSendAttempts(v.id);
    expect(attempt).toMatchObject({ providerSid: standin.created.at(-1)!.sid, deliveryStatus: "queued" });
  });

  it("places a call whose TwiML reads the code digit by digit, three times, in the caller's language", async () => {
    const to = freshMobile();
    const before = standin.requests.length;
    const v = await startVerification(s, { serviceId, to, channel: "CALL", locale: "fr-CA" });
    await s.app.dispatcher.idle();

    const [req] = standin.requests.slice(before);
    expect(req).toMatchObject({ path: `/2010-04-01/Accounts/${standin.accountSid}/Calls.json`, user: standin.accountSid });
    expect(req!.form).toMatchObject({ To: to, From: "+15005550006" });
    expect(req!.form.StatusCallbackEvent).toEqual(["initiated", "ringing", "answered", "completed"]);
    expect(req!.form.Body).toBeUndefined();

    const twiml = req!.form.Twiml as string;
    expect(twiml.startsWith('<?xml version="1.0" encoding="UTF-8"?><Response>')).toBe(true);
    const says = [...twiml.matchAll(/<Say voice="([^"]+)" language="([^"]+)">([^<]*)<\/Say>/g)];
    expect(new Set(says.map((m) => `${m[1]} ${m[2]}`))).toEqual(new Set(["Polly.Chantal fr-CA"]));
    const digitRuns = says.map((m) => m[3]!).filter((t) => /^\d(, \d)+\.$/.test(t));
    expect(digitRuns).toHaveLength(3);
    expect(new Set(digitRuns).size).toBe(1);
    expect(says[0]![3]).toBe("Votre code de vérification Acme est :");
    expect(says.at(-1)![3]).toBe("Ne partagez ce code avec personne.");
    expect(twiml).toContain('<Pause length="2"/>');

    const code = digitRuns[0]!.replace(/\D/g, "");
    expect(code).toHaveLength(6);
    const checked = ok(await s.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId, verificationId: v.id, code } })).checkVerification;
    expect(checked.status).toBe("APPROVED");
  });

  it("escapes the service name into the TwiML", async () => {
    const named = await createCoreService(s, { friendlyName: "A&B <Shop>" });
    const before = standin.requests.length;
    await startVerification(s, { serviceId: named, to: freshMobile(), channel: "CALL" });
    await s.app.dispatcher.idle();
    const twiml = standin.requests[before]!.form.Twiml as string;
    expect(twiml).toContain("Your A&amp;B &lt;Shop&gt; verification code is:");
    expect(twiml).not.toContain("<Shop>");
  });

  it("answers startVerification while Twilio still holds the request", async () => {
    standin.fail({ hang: true });
    const before = standin.requests.length;
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    // The start came back PENDING although Twilio has not answered (and will not, until it times out).
    expect(v.status).toBe("PENDING");
    await standin.waitForRequests(before + 1);
    const [attempt] = await s.app.services.store.listSendAttempts(v.id);
    expect(attempt).toMatchObject({ providerSid: null, deliveryStatus: "queued" });
    standin.release(); // the connection drops: the send goes back to its job for a later retry
    await s.app.dispatcher.idle();
  });
});

describe("Twilio delivery through a Messaging Service", () => {
  const standin = new TwilioStandin();
  let s: TestServer;

  beforeAll(async () => {
    await standin.start();
    s = await startServer({ env: twilioEnv(standin, { TWILIO_MESSAGING_SERVICE_SID: "MG" + "ab".repeat(16) }) });
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
  });

  it("sends SMS with MessagingServiceSid instead of From", async () => {
    const serviceId = await createCoreService(s);
    await startVerification(s, { serviceId, to: freshMobile(), channel: "SMS" });
    await s.app.dispatcher.idle();
    const [req] = standin.requests;
    expect(req!.form.MessagingServiceSid).toBe("MG" + "ab".repeat(16));
    expect(req!.form.From).toBeUndefined();
  });
});
