import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import {
  CANCEL,
  CHECK,
  VERIFICATION,
  codesSent,
  createCoreService,
  errorOf,
  freshMobile,
  latestCode,
  ok,
  queryDb,
  startServer,
  startVerification,
  type TestServer,
  type VerificationView,
} from "./helpers/harness.js";

/**
 * Every status move of a verification, over real HTTP against a real SQLite file, with time driven by
 * an injected ManualClock (no sleeping). Each test uses its own number, so tests do not share rows.
 */

type CheckView = { id: string; status: string; valid: boolean };

describe("verification lifecycle: status transitions", () => {
  const clock = new ManualClock();
  let s: TestServer;
  let serviceId: string;
  const TTL = 600;

  beforeAll(async () => {
    s = await startServer({ clock });
    serviceId = await createCoreService(s, { friendlyName: "Acme", maxCheckAttempts: 3, ttlSeconds: TTL });
  });
  afterAll(async () => s?.close());

  const check = (input: Record<string, unknown>) => s.gql<{ checkVerification: CheckView }>(CHECK, { input: { serviceId, ...input } });
  const read = async (id: string) => ok(await s.gql<{ verification: VerificationView }>(VERIFICATION, { serviceId, id })).verification;
  const row = (id: string) => queryDb<{ status: string; check_attempts: number; send_attempts: number }>(s, "select status, check_attempts, send_attempts from verifications where id = ?", id)[0]!;

  it("moves PENDING to APPROVED on the right code, and the approved code is single-use (20404 after)", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    expect(v).toMatchObject({ status: "PENDING", valid: false, to, channel: "SMS" });
    const code = await latestCode(s, to);

    expect(ok(await check({ to, code })).checkVerification).toEqual({ id: v.id, status: "APPROVED", valid: true });
    expect(errorOf(await check({ to, code }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    expect(errorOf(await check({ verificationId: v.id, code }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    expect(await read(v.id)).toMatchObject({ status: "APPROVED", valid: true });
    expect(row(v.id)).toMatchObject({ status: "APPROVED", check_attempts: 1 });
  });

  it("moves PENDING to CANCELED; the canceled code then answers 20404, and so does a second cancel", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);

    expect(ok(await s.gql<{ cancelVerification: CheckView }>(CANCEL, { serviceId, id: v.id })).cancelVerification).toEqual({ id: v.id, status: "CANCELED", valid: false });
    expect(errorOf(await check({ to, code }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    expect(errorOf(await check({ verificationId: v.id, code }))).toMatchObject({ errorCode: 20404 });
    expect(errorOf(await s.gql(CANCEL, { serviceId, id: v.id }))).toMatchObject({ errorCode: 20404 });
    expect(row(v.id)).toMatchObject({ status: "CANCELED", check_attempts: 0 });
  });

  it("keeps a wrong code PENDING and counts it; the limit moves it to MAX_ATTEMPTS_REACHED and the next check answers 60202", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    const wrong = code === "000000" ? "111111" : "000000";

    expect(ok(await check({ to, code: wrong })).checkVerification).toMatchObject({ status: "PENDING", valid: false });
    expect(row(v.id).check_attempts).toBe(1);
    expect(ok(await check({ to, code: wrong })).checkVerification).toMatchObject({ status: "PENDING", valid: false });
    expect(ok(await check({ to, code: wrong })).checkVerification).toMatchObject({ status: "MAX_ATTEMPTS_REACHED", valid: false });

    // Even the right code is refused now, whether the verification is named by number or by id.
    expect(errorOf(await check({ to, code }))).toMatchObject({ code: "MAX_CHECK_ATTEMPTS_REACHED", errorCode: 60202 });
    expect(errorOf(await check({ verificationId: v.id, code }))).toMatchObject({ code: "MAX_CHECK_ATTEMPTS_REACHED", errorCode: 60202 });
    expect(row(v.id)).toMatchObject({ status: "MAX_ATTEMPTS_REACHED", check_attempts: 3 });
    expect(await read(v.id)).toMatchObject({ status: "MAX_ATTEMPTS_REACHED", valid: false });
  });

  it("answers 20404 instead of 60202 once a spent verification's TTL is over", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    for (let i = 0; i < 3; i++) await check({ to, code: "0000" });
    expect(errorOf(await check({ to, code: "0000" })).errorCode).toBe(60202);

    clock.advance(TTL * 1000);
    expect(errorOf(await check({ to, code: "0000" }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    expect(errorOf(await check({ verificationId: v.id, code: "0000" })).errorCode).toBe(20404);
  });

  it("moves PENDING to EXPIRED when the TTL passes: the right code then answers 20404", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);

    clock.advance(TTL * 1000 - 1);
    expect(await read(v.id)).toMatchObject({ status: "PENDING" });
    clock.advance(1);
    expect(errorOf(await check({ to, code }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    expect(await read(v.id)).toMatchObject({ status: "EXPIRED", valid: false });
    expect(row(v.id)).toMatchObject({ status: "EXPIRED", check_attempts: 0 });
  });

  it("reports (and stores) EXPIRED when a verification past its TTL is read", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    clock.advance(TTL * 1000);
    expect(row(v.id).status).toBe("PENDING");
    expect(await read(v.id)).toMatchObject({ status: "EXPIRED" });
    expect(row(v.id).status).toBe("EXPIRED");
  });

  it("expires every PENDING verification past its TTL through lifecycle.sweepExpired(), and leaves live ones", async () => {
    const [a, b] = [freshMobile(), freshMobile()];
    const va = await startVerification(s, { serviceId, to: a });
    const vb = await startVerification(s, { serviceId, to: b });
    clock.advance(TTL * 1000 - 1000);
    const live = await startVerification(s, { serviceId, to: freshMobile() });

    expect(row(va.id).status).toBe("PENDING");
    clock.advance(1000);
    const swept = await s.app.services.lifecycle.sweepExpired();
    expect(swept).toBeGreaterThanOrEqual(2);
    expect(row(va.id).status).toBe("EXPIRED");
    expect(row(vb.id).status).toBe("EXPIRED");
    expect(row(live.id).status).toBe("PENDING");
    expect(await s.app.services.lifecycle.sweepExpired()).toBe(0);
  });

  it("moves PENDING to FAILED through lifecycle.fail(), after which the code answers 20404", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);

    const failed = await s.app.services.lifecycle.fail(v.id);
    expect(failed?.status).toBe("FAILED");
    expect(await read(v.id)).toMatchObject({ status: "FAILED", valid: false });
    expect(errorOf(await check({ to, code })).errorCode).toBe(20404);
    expect(await s.app.services.lifecycle.fail(v.id)).toBeNull();
  });

  it("keeps final states final: an approved verification can be neither canceled nor failed", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    ok(await check({ to, code: await latestCode(s, to) }));

    expect(errorOf(await s.gql(CANCEL, { serviceId, id: v.id })).errorCode).toBe(20404);
    expect(await s.app.services.lifecycle.fail(v.id)).toBeNull();
    clock.advance(TTL * 1000);
    await s.app.services.lifecycle.sweepExpired();
    expect(row(v.id).status).toBe("APPROVED");
  });

  it("answers 20404 (as Twilio does) when a check by number finds no verification at all", async () => {
    expect(errorOf(await check({ to: freshMobile(), code: "123456" }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
  });

  it("starts a new verification with a new code once the previous one is final", async () => {
    const to = freshMobile();
    const first = await startVerification(s, { serviceId, to });
    await s.gql(CANCEL, { serviceId, id: first.id });
    const second = await startVerification(s, { serviceId, to });
    expect(second.id).not.toBe(first.id);
    expect(second.sendCodeAttempts).toHaveLength(1);
    expect(queryDb(s, "select id, status from verifications where to_number = ? order by created_at, rowid", to)).toEqual([
      { id: first.id, status: "CANCELED" },
      { id: second.id, status: "PENDING" },
    ]);
    const [newest] = await codesSent(s, to);
    expect(ok(await check({ to, code: newest! })).checkVerification).toMatchObject({ id: second.id, status: "APPROVED" });
  });
});
