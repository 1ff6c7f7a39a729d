import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerificationEvent } from "../src/events/types.js";
import { createLogger } from "../src/log.js";
import { createCoreService, freshMobile, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { TwilioStandin, twilioEnv, type StandinResource } from "./helpers/twilio-standin.js";

/**
 * `POST /webhooks/twilio/status`: Twilio's signed status callbacks update the send attempt and push
 * DELIVERY_STATUS; anything not signed with our auth token is refused and changes nothing.
 */
describe("Twilio status callbacks", () => {
  const standin = new TwilioStandin();
  const logs: Record<string, unknown>[] = [];
  let s: TestServer;
  let serviceId: string;
  const events: VerificationEvent[] = [];

  /** Starts a verification and returns it with the message (or call) the stand-in created for it. */
  const send = async (channel: "SMS" | "CALL" = "SMS") => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to, channel });
    await s.app.dispatcher.idle();
    const resource = standin.created.find((r) => r.to === to)!;
    return { v, to, resource };
  };
  const attemptOf = async (verificationId: string) => (await s.app.services.store.listSendAttempts(verificationId))[0]!;
  const statusEvents = (verificationId: string) => events.filter((e) => e.verificationId === verificationId && e.type === "DELIVERY_STATUS").map((e) => e.deliveryStatus);

  beforeAll(async () => {
    await standin.start();
    s = await startServer({ env: twilioEnv(standin), log: createLogger("info", (line) => logs.push(JSON.parse(line) as Record<string, unknown>)) });
    serviceId = await createCoreService(s);
    void (async () => {
      for await (const e of s.app.pubSub.subscribe("service", serviceId)) events.push(e);
    })();
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
  });

  it("records sent, then delivered with the price, and publishes each status", async () => {
    const { v, resource } = await send();
    const sent = await standin.statusCallback(s.url, resource, { MessageStatus: "sent" });
    expect(sent.status).toBe(204);
    expect((await attemptOf(v.id)).deliveryStatus).toBe("sent");

    const delivered = await standin.statusCallback(s.url, resource, { MessageStatus: "delivered", Price: "-0.00750", PriceUnit: "USD" });
    expect(delivered.status).toBe(204);
    expect(await attemptOf(v.id)).toMatchObject({ deliveryStatus: "delivered", price: "-0.00750", priceUnit: "USD", providerSid: resource.sid });
    expect(statusEvents(v.id)).toEqual(["sent", "delivered"]);
  });

  it("never moves a status backwards when callbacks arrive out of order", async () => {
    const { v, resource } = await send();
    await standin.statusCallback(s.url, resource, { MessageStatus: "delivered" });
    await standin.statusCallback(s.url, resource, { MessageStatus: "sent" });
    expect((await attemptOf(v.id)).deliveryStatus).toBe("delivered");
  });

  it("records undelivered with Twilio's error code", async () => {
    const { v, resource } = await send();
    await standin.statusCallback(s.url, resource, { MessageStatus: "undelivered", ErrorCode: "30003" });
    expect(await attemptOf(v.id)).toMatchObject({ deliveryStatus: "undelivered", errorCode: 30003 });
  });

  it("maps a call's progress: ringing is sent, completed is delivered, no-answer is undelivered", async () => {
    const answered = await send("CALL");
    expect(answered.resource.kind).toBe("Calls");
    await standin.statusCallback(s.url, answered.resource, { CallStatus: "ringing" });
    expect((await attemptOf(answered.v.id)).deliveryStatus).toBe("sent");
    await standin.statusCallback(s.url, answered.resource, { CallStatus: "completed", CallDuration: "21" });
    expect((await attemptOf(answered.v.id)).deliveryStatus).toBe("delivered");

    const missed = await send("CALL");
    await standin.statusCallback(s.url, missed.resource, { CallStatus: "no-answer" });
    expect((await attemptOf(missed.v.id)).deliveryStatus).toBe("undelivered");
  });

  it.each([
    ["signed with another auth token", { signWith: "not-the-auth-token" }],
    ["without a signature", { signature: null }],
    ["with a garbage signature", { signature: "AAAA" }],
  ] as const)("refuses a callback %s with 403, records nothing and logs it with the number masked", async (_label, forge) => {
    const { v, to, resource } = await send();
    const logsBefore = logs.length;
    const res = await standin.statusCallback(s.url, resource, { MessageStatus: "delivered", Price: "-9.99", PriceUnit: "USD" }, forge);
    expect(res.status).toBe(403);
    expect(await attemptOf(v.id)).toMatchObject({ deliveryStatus: "queued", price: null });
    expect(statusEvents(v.id)).toEqual([]);
    const logged = logs.slice(logsBefore).find((l) => l.msg === "twilio callback rejected: bad signature");
    expect(logged).toBeDefined();
    expect(logged!.to).toBe(to.slice(0, 3) + "*".repeat(to.length - 5) + to.slice(-2));
    expect(JSON.stringify(logs.slice(logsBefore))).not.toContain(to);
  });

  it("refuses a genuine signature replayed for another attempt", async () => {
    const first = await send();
    const second = await send();
    // Twilio's signature for the first message's callback URL, sent to the second attempt's URL.
    const forged: StandinResource = { ...first.resource, statusCallback: second.resource.statusCallback };
    const params = { MessageStatus: "delivered" };
    const stolen = twilio.getExpectedTwilioSignature(standin.authToken, first.resource.statusCallback!, {
      AccountSid: standin.accountSid, MessageSid: first.resource.sid, SmsSid: first.resource.sid, From: first.resource.from!, To: first.resource.to, ApiVersion: "2010-04-01", ...params,
    });
    const res = await standin.statusCallback(s.url, forged, params, { signature: stolen });
    expect(res.status).toBe(403);
    expect((await attemptOf(second.v.id)).deliveryStatus).toBe("queued");
  });

  it("acknowledges a genuine callback for a message it does not know, and records nothing", async () => {
    const { v, resource } = await send();
    const stranger: StandinResource = { ...resource, sid: "SM" + "f".repeat(32) };
    const res = await standin.statusCallback(s.url, stranger, { MessageStatus: "delivered" });
    expect(res.status).toBe(204);
    expect(await attemptOf(v.id)).toMatchObject({ deliveryStatus: "queued", providerSid: resource.sid });
  });
});
