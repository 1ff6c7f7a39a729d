import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import {
  CHECK,
  codesSent,
  createCoreService,
  freshMobile,
  latestCode,
  ok,
  queryDb,
  startServer,
  startVerification,
  type TestServer,
} from "./helpers/harness.js";

/**
 * Resends (a start for a number that has a live PENDING verification), over real HTTP against a real
 * SQLite file with an injected clock: the same verification, the same code, one more send attempt.
 */

type CheckView = { id: string; status: string; valid: boolean };

describe("resend", () => {
  const clock = new ManualClock();
  let s: TestServer;
  let serviceId: string;

  beforeAll(async () => {
    s = await startServer({ clock });
    serviceId = await createCoreService(s, { friendlyName: "Acme", maxCheckAttempts: 3 });
  });
  afterAll(async () => s?.close());

  const check = (input: Record<string, unknown>) => s.gql<{ checkVerification: CheckView }>(CHECK, { input: { serviceId, ...input } });

  it("keeps the same verification and the same code, and adds a send attempt", async () => {
    const to = freshMobile();
    const first = await startVerification(s, { serviceId, to });
    clock.advance(30_000);
    const again = await startVerification(s, { serviceId, to });

    expect(again.id).toBe(first.id);
    expect(again.sendCodeAttempts).toHaveLength(2);
    expect(again.sendCodeAttempts.map((a) => a.id)).toEqual(expect.arrayContaining([first.sendCodeAttempts[0]!.id]));
    expect(again.sendCodeAttempts[1]!.id).toMatch(/^VL[0-9a-f]{32}$/);
    const codes = await codesSent(s, to);
    expect(codes).toHaveLength(2);
    expect(codes[0]).toBe(codes[1]);
    expect(ok(await check({ to, code: codes[0] })).checkVerification.status).toBe("APPROVED");
  });

  it("sends through the newly asked channel and records it on the attempt and the verification", async () => {
    const to = freshMobile();
    await startVerification(s, { serviceId, to, channel: "SMS" });
    const again = await startVerification(s, { serviceId, to, channel: "CALL" });

    expect(again.channel).toBe("CALL");
    expect(again.sendCodeAttempts.map((a) => a.channel)).toEqual(["SMS", "CALL"]);
    await s.app.dispatcher.idle();
    const outbox = ok(await s.gql<{ outboxMessages: { channel: string }[] }>(`query($to: String) { outboxMessages(to: $to) { channel } }`, { to })).outboxMessages;
    expect(outbox.map((m) => m.channel)).toEqual(["CALL", "SMS"]);
    const [callCode, smsCode] = await codesSent(s, to);
    expect(callCode).toBe(smsCode);
  });

  it("does not reset the wrong-check count (a new send is no new guessing budget)", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    const wrong = code === "999999" ? "888888" : "999999";
    await check({ to, code: wrong });
    await check({ to, code: wrong });
    await startVerification(s, { serviceId, to });

    expect(ok(await check({ to, code: wrong })).checkVerification).toMatchObject({ id: v.id, status: "MAX_ATTEMPTS_REACHED" });
  });

  it("issues a new verification and a new code when the pending one's TTL has passed", async () => {
    const to = freshMobile();
    const first = await startVerification(s, { serviceId, to });
    clock.advance(600_000);
    const second = await startVerification(s, { serviceId, to });

    expect(second.id).not.toBe(first.id);
    expect(queryDb(s, "select id, status from verifications where to_number = ? order by created_at", to)).toEqual([
      { id: first.id, status: "EXPIRED" },
      { id: second.id, status: "PENDING" },
    ]);
  });

  it("still sends the original code after an admin changed the service's code length", async () => {
    const svc = await createCoreService(s, { friendlyName: "Shifty", codeLength: 6 });
    const to = freshMobile();
    await startVerification(s, { serviceId: svc, to });
    ok(await s.gql(`mutation($id: ID!) { updateService(id: $id, input: { codeLength: 8 }) { codeLength } }`, { id: svc }));
    await startVerification(s, { serviceId: svc, to });

    const [resent, original] = await codesSent(s, to);
    expect(resent).toBe(original);
    expect(resent).toHaveLength(6);
    expect(ok(await s.gql<{ checkVerification: CheckView }>(CHECK, { input: { serviceId: svc, to, code: resent } })).checkVerification.status).toBe("APPROVED");
  });
});
