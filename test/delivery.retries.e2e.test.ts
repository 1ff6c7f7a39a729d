import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import type { VerificationEvent } from "../src/events/types.js";
import { createCoreService, freshMobile, queryDb, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { TwilioStandin, twilioEnv } from "./helpers/twilio-standin.js";

interface JobView {
  status: string;
  attempts: number;
  run_at: number;
  error_code: number | null;
  sealed_code: string | null;
}

/** What Twilio's errors and outages do to a send: retried with backoff, or failed for good. */
describe("Twilio delivery: errors, retries and timeouts", () => {
  const standin = new TwilioStandin();
  const clock = new ManualClock();
  let s: TestServer;
  let serviceId: string;
  const events: VerificationEvent[] = [];

  const job = (verificationId: string) => queryDb<JobView>(s, "select status, attempts, run_at, error_code, sealed_code from delivery_jobs where verification_id = ?", verificationId)[0]!;

  beforeAll(async () => {
    await standin.start();
    s = await startServer({ clock, env: twilioEnv(standin, { DELIVERY_MAX_ATTEMPTS: "4" }) });
    serviceId = await createCoreService(s);
    void (async () => {
      for await (const e of s.app.pubSub.subscribe("service", serviceId)) events.push(e);
    })();
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
  });

  it.each([
    [21211, "invalid number"],
    [21614, "not a mobile number"],
    [21612, "not reachable by SMS"],
    [21408, "region not enabled (geo permissions)"],
  ])("fails the attempt and the verification on Twilio %i (%s), without a retry", async (code) => {
    standin.fail({ status: 400, code, message: "refused" });
    const before = standin.requests.length;
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    await s.app.dispatcher.idle();
    clock.advance(10 * 60_000); // long past any backoff: nothing is retried
    await s.app.dispatcher.idle();

    expect(standin.requests.length - before).toBe(1);
    expect((await s.app.services.store.getVerification(v.id))!.status).toBe("FAILED");
    const [attempt] = await s.app.services.store.listSendAttempts(v.id);
    expect(attempt).toMatchObject({ deliveryStatus: "failed", errorCode: code });
    expect(job(v.id)).toMatchObject({ status: "failed", attempts: 1, error_code: code, sealed_code: null });
    const mine = events.filter((e) => e.verificationId === v.id).map((e) => [e.type, e.deliveryStatus ?? null, e.errorCode ?? null]);
    expect(mine).toEqual([
      ["CREATED", null, null],
      ["DELIVERY_STATUS", "failed", code],
      ["FAILED", null, null],
    ]);
  });

  it("retries 429 and 5xx with growing, jittered delays, then delivers once with one idempotency token", async () => {
    standin.fail({ status: 429, code: 20429 }, { status: 500, code: 20500 }, { status: 503, code: 20503 });
    const before = standin.requests.length;
    const createdBefore = standin.created.length;
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    await s.app.dispatcher.idle();

    // Equal jitter: the n-th retry waits between half and all of 2 s * 2^(n-1).
    for (const [n, ceiling] of [[1, 2_000], [2, 4_000], [3, 8_000]] as const) {
      const j = job(v.id);
      expect(j).toMatchObject({ status: "pending", attempts: n });
      const wait = j.run_at - clock.now();
      expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
      expect(wait).toBeLessThanOrEqual(ceiling);
      clock.advance(wait - 1);
      await s.app.dispatcher.idle();
      expect(standin.requests.length - before).toBe(n); // not due yet: no new request
      clock.advance(1);
      await s.app.dispatcher.idle();
    }

    const tries = standin.requests.slice(before);
    expect(tries).toHaveLength(4);
    expect(new Set(tries.map((r) => r.idempotencyToken)).size).toBe(1);
    expect(standin.created.length - createdBefore).toBe(1);
    expect(job(v.id)).toMatchObject({ status: "sent", attempts: 4, sealed_code: null });
    expect((await s.app.services.store.getVerification(v.id))!.status).toBe("PENDING");
    const [attempt] = await s.app.services.store.listSendAttempts(v.id);
    expect(attempt).toMatchObject({ deliveryStatus: "queued", providerSid: standin.created.at(-1)!.sid });
  });

  it("gives up after DELIVERY_MAX_ATTEMPTS transient failures and fails the verification", async () => {
    standin.fail(...Array.from({ length: 4 }, () => ({ status: 500, code: 20500 })));
    const before = standin.requests.length;
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    await s.app.dispatcher.idle();
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      await s.app.dispatcher.idle();
    }
    expect(standin.requests.length - before).toBe(4);
    expect(job(v.id)).toMatchObject({ status: "failed", attempts: 4, error_code: 20500 });
    expect((await s.app.services.store.getVerification(v.id))!.status).toBe("FAILED");
  });

  it("sends nothing for a verification canceled while its send waited for a retry", async () => {
    standin.fail({ status: 503, code: 20503 });
    const before = standin.requests.length;
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    await s.app.dispatcher.idle();
    await s.app.services.lifecycle.cancel(serviceId, v.id);
    clock.advance(60_000);
    await s.app.dispatcher.idle();
    expect(standin.requests.length - before).toBe(1);
    expect(job(v.id)).toMatchObject({ status: "canceled", sealed_code: null });
    const [attempt] = await s.app.services.store.listSendAttempts(v.id);
    expect(attempt!.deliveryStatus).toBe("canceled");
  });
});

describe("Twilio delivery: a request that times out", () => {
  const standin = new TwilioStandin();
  const clock = new ManualClock();
  let s: TestServer;
  let serviceId: string;
  const job = (verificationId: string) => queryDb<JobView>(s, "select status, attempts, run_at, error_code, sealed_code from delivery_jobs where verification_id = ?", verificationId)[0]!;

  beforeAll(async () => {
    await standin.start();
    s = await startServer({ clock, env: twilioEnv(standin, { TWILIO_TIMEOUT_MS: "1000" }) });
    serviceId = await createCoreService(s);
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
  });

  it("retries a request that timed out with the same idempotency token, so Twilio sends it once", async () => {
    // Twilio accepts the message but the answer comes too late: the client gives up after 1 s.
    standin.fail({ delayMs: 5_000 });
    const before = standin.requests.length;
    const createdBefore = standin.created.length;
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    await s.app.dispatcher.idle();
    expect(job(v.id)).toMatchObject({ status: "pending", attempts: 1 });

    clock.advance(job(v.id).run_at - clock.now());
    await s.app.dispatcher.idle();
    const tries = standin.requests.slice(before);
    expect(tries).toHaveLength(2);
    expect(tries[1]!.idempotencyToken).toBe(tries[0]!.idempotencyToken);
    expect(standin.created.length - createdBefore).toBe(1);
    expect(job(v.id).status).toBe("sent");
    const [attempt] = await s.app.services.store.listSendAttempts(v.id);
    expect(attempt!.providerSid).toBe(standin.created.at(-1)!.sid);
  });
});
