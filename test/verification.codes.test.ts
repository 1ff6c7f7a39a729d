import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHECK,
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
} from "./helpers/harness.js";

/**
 * Codes over real HTTP: the service's code length, the message text, custom codes, PSD2 dynamic
 * linking (amount and payee) and national numbers with a country hint.
 */

type CheckView = { id: string; status: string; valid: boolean };

describe("codes, custom codes and PSD2", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  const check = (serviceId: string, input: Record<string, unknown>) => s.gql<{ checkVerification: CheckView }>(CHECK, { input: { serviceId, ...input } });

  it.each([4, 6, 8, 10])("sends generated codes of the service's length (%i digits)", async (codeLength) => {
    const serviceId = await createCoreService(s, { friendlyName: `Len${codeLength}`, codeLength });
    const to = freshMobile();
    await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    expect(code).toMatch(new RegExp(`^[0-9]{${codeLength}}$`));
    expect(ok(await check(serviceId, { to, code })).checkVerification.status).toBe("APPROVED");
  });

  it("writes the service name, the code, its lifetime and a do-not-share warning into the message", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Northwind", ttlSeconds: 300 });
    const to = freshMobile();
    await startVerification(s, { serviceId, to });
    await s.app.dispatcher.idle();
    const [msg] = ok(await s.gql<{ outboxMessages: { body: string }[] }>(`query($to: String) { outboxMessages(to: $to) { body } }`, { to })).outboxMessages;
    expect(msg!.body).toContain("Northwind");
    expect(msg!.body).toContain(await latestCode(s, to));
    expect(msg!.body).toMatch(/5 minutes/);
    expect(msg!.body).toMatch(/do not share/i);
  });

  it("sends and checks the caller's own code when the service enables custom codes", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Custom", customCodeEnabled: true });
    const to = freshMobile();
    await startVerification(s, { serviceId, to, customCode: "48213907" });
    expect(await latestCode(s, to)).toBe("48213907");
    expect(ok(await check(serviceId, { to, code: "48213900" })).checkVerification).toMatchObject({ status: "PENDING", valid: false });
    expect(ok(await check(serviceId, { to, code: "48213907" })).checkVerification).toMatchObject({ status: "APPROVED", valid: true });
  });

  it("resends a custom code only when the same code is passed, and a refused resend costs no send", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Custom2", customCodeEnabled: true });
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to, customCode: "9081" });
    const sends = () => queryDb<{ n: number }>(s, "select send_attempts as n from verifications where id = ?", v.id)[0]!.n;

    const without = await s.gql(`mutation($input: StartVerificationInput!) { startVerification(input: $input) { id } }`, { input: { serviceId, to, channel: "SMS" } });
    expect(errorOf(without)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
    const other = await s.gql(`mutation($input: StartVerificationInput!) { startVerification(input: $input) { id } }`, { input: { serviceId, to, channel: "SMS", customCode: "1234" } });
    expect(errorOf(other).errorCode).toBe(60200);
    expect(sends()).toBe(1);

    expect((await startVerification(s, { serviceId, to, customCode: "9081" })).id).toBe(v.id);
    expect(sends()).toBe(2);
    expect(await codesSent(s, to)).toEqual(["9081", "9081"]);
  });

  it("approves a PSD2 verification only when the check presents the same amount and payee", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Bank", psd2Enabled: true });
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to, amount: "EUR 12.50", payee: "Acme Ltd" });
    const code = await latestCode(s, to);
    const attempts = () => queryDb<{ n: number }>(s, "select check_attempts as n from verifications where id = ?", v.id)[0]!.n;

    expect(ok(await check(serviceId, { to, code, amount: "EUR 13.00", payee: "Acme Ltd" })).checkVerification).toMatchObject({ status: "PENDING", valid: false });
    expect(attempts()).toBe(1);
    expect(ok(await check(serviceId, { to, code, amount: "EUR 12.50", payee: "Evil Ltd" })).checkVerification).toMatchObject({ status: "PENDING", valid: false });
    expect(ok(await check(serviceId, { to, code })).checkVerification).toMatchObject({ status: "PENDING", valid: false });
    expect(attempts()).toBe(3);
    expect(ok(await check(serviceId, { to, code, amount: "EUR 12.50", payee: "Acme Ltd" })).checkVerification).toMatchObject({ status: "APPROVED", valid: true });
  });

  it("counts a PSD2 pair on a verification started without one as a wrong attempt", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Bank2" });
    const to = freshMobile();
    await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    expect(ok(await check(serviceId, { to, code, amount: "1", payee: "x" })).checkVerification).toMatchObject({ status: "PENDING", valid: false });
    expect(ok(await check(serviceId, { to, code })).checkVerification.status).toBe("APPROVED");
  });

  it("refuses a PSD2 pair on a service that does not enable PSD2 (60200 naming amount)", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Shop" });
    const r = await s.gql(`mutation($input: StartVerificationInput!) { startVerification(input: $input) { id } }`, { input: { serviceId, to: freshMobile(), channel: "SMS", amount: "10", payee: "A" } });
    expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, detail: { field: "amount" } });
  });

  it("refuses a resend that changes the PSD2 pair of the pending verification (60200)", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Bank3", psd2Enabled: true });
    const to = freshMobile();
    await startVerification(s, { serviceId, to, amount: "10", payee: "A" });
    const r = await s.gql(`mutation($input: StartVerificationInput!) { startVerification(input: $input) { id } }`, { input: { serviceId, to, channel: "SMS", amount: "99", payee: "A" } });
    expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
  });

  it("accepts a national number with a country hint and returns it in E.164 with its country and line type", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Intl" });
    const v = await startVerification(s, { serviceId, to: "07400 123457", country: "GB" });
    expect(v.to).toBe("+447400123457");
    expect(v.lookup).toEqual({ countryCode: "GB", lineType: "MOBILE" });
    expect(v.id).toMatch(/^VE[0-9a-f]{32}$/);
    expect(v.sendCodeAttempts[0]!.id).toMatch(/^VL[0-9a-f]{32}$/);
  });
});
