import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import {
  createClientKey,
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
import { adminTwilio } from "./helpers/twilio-client.js";

const CHECK_TOKEN = `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { id status valid approvalToken } }`;
const REDEEM = `mutation($token: String!, $serviceId: ID) { redeemApprovalToken(token: $token, serviceId: $serviceId) { serviceId verificationId to channel approvedAt expiresAt } }`;
const HOUR = 3_600_000;

/**
 * Approval tokens: an approving check returns a JWT the app's backend verifies offline with jose
 * against /.well-known/jwks.json; expired, tampered and other services' tokens are refused; keys
 * rotate without breaking live tokens; redemption makes a token single-use.
 */
describe("approval tokens", () => {
  // Two minutes before a rotation boundary, so the test can cross it.
  const clock = new ManualClock(Math.ceil(Date.now() / HOUR) * HOUR + 10 * HOUR - 120_000);
  let s: TestServer;
  let serviceId: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  /** Starts and approves a verification; returns the token and the verification. */
  const approve = async (sid = serviceId) => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId: sid, to });
    const code = await latestCode(s, to);
    const r = ok(await s.gql<{ checkVerification: { status: string; approvalToken: string | null } }>(CHECK_TOKEN, { input: { serviceId: sid, to, code } }));
    expect(r.checkVerification.status).toBe("APPROVED");
    return { token: r.checkVerification.approvalToken!, v, to };
  };
  /** Verifies as a backend does, at the server's (manual) time. */
  const verify = (token: string, audience = serviceId, at = clock.now()) => jwtVerify(token, jwks, { audience, issuer: "https://verify.example.test", currentDate: new Date(at) });

  beforeAll(async () => {
    s = await startServer({ clock, env: { APPROVAL_KEY_ROTATION_HOURS: "1", PUBLIC_URL: "https://verify.example.test" } });
    serviceId = await createCoreService(s);
    jwks = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`), { cooldownDuration: 0 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("puts it on the Twilio-compatible REST check as approval_token, an extension field the SDK's VerificationCheck drops", async () => {
    const client = await adminTwilio(s);
    const checks = client.verify.v2.services(serviceId).verificationChecks;
    const pending = async () => {
      const to = freshMobile();
      await startVerification(s, { serviceId, to });
      return { to, code: await latestCode(s, to) };
    };
    // The SDK's own call: it works unchanged, and its VerificationCheck has no field for the token...
    const a = await pending();
    const check = await checks.create({ to: a.to, code: a.code });
    expect(check.status).toBe("approved");
    expect(Object.keys(check.toJSON())).not.toContain("approvalToken");
    // ...but the response it read carries it (the SDK keeps the last one on its httpClient).
    const last = client.httpClient.lastResponse as { body: string | { approval_token?: string } };
    const body = typeof last.body === "string" ? (JSON.parse(last.body) as { approval_token?: string }) : last.body;
    expect((await verify(body.approval_token!)).payload).toMatchObject({ sub: a.to, verification_sid: check.sid });

    // client.request, the SDK's way to a field it does not model, reads it directly.
    const b = await pending();
    const res = await client.request({ method: "post", uri: `https://verify.twilio.com/v2/Services/${serviceId}/VerificationCheck`, data: { To: b.to, Code: b.code } });
    expect(res.statusCode).toBe(201);
    const approved = res.body as { sid: string; status: string; approval_token: string };
    expect(approved.status).toBe("approved");
    const { payload } = await verify(approved.approval_token);
    expect(payload).toMatchObject({ sub: b.to, phone_number: b.to, verification_sid: approved.sid, service_sid: serviceId });

    // A check that does not approve answers null.
    const c = await pending();
    const wrong = await client.request({ method: "post", uri: `https://verify.twilio.com/v2/Services/${serviceId}/VerificationCheck`, data: { To: c.to, Code: c.code === "000000" ? "111111" : "000000" } });
    expect(wrong.body).toMatchObject({ status: "pending", valid: false, approval_token: null });
  });

  it("returns a token with the approval's facts that jose verifies against the JWKS endpoint", async () => {
    const { token, v, to } = await approve();
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(payload).toMatchObject({
      iss: "https://verify.example.test",
      aud: serviceId,
      sub: to,
      jti: v.id,
      service_sid: serviceId,
      verification_sid: v.id,
      phone_number: to,
      channel: "SMS",
    });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(Math.abs(payload.iat! * 1000 - clock.now())).toBeLessThan(1000);
  });

  it("returns no token for a wrong code", async () => {
    const to = freshMobile();
    await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    const wrong = code === "000000" ? "111111" : "000000";
    const r = ok(await s.gql<{ checkVerification: { status: string; approvalToken: string | null } }>(CHECK_TOKEN, { input: { serviceId, to, code: wrong } }));
    expect(r.checkVerification).toMatchObject({ status: "PENDING", approvalToken: null });
  });

  it("serves the JWKS publicly with public keys only", async () => {
    const res = await fetch(`${s.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/jwk-set+json");
    const body = (await res.json()) as { keys: Record<string, string>[] };
    expect(body.keys.length).toBeGreaterThanOrEqual(2);
    for (const k of body.keys) {
      expect(k).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      expect(k.d).toBeUndefined();
    }
  });

  it("refuses an expired token", async () => {
    const { token } = await approve();
    await expect(verify(token, serviceId, clock.now() + 301_000)).rejects.toMatchObject({ code: "ERR_JWT_EXPIRED" });
  });

  it("refuses a tampered token (another number in the payload)", async () => {
    const { token } = await approve();
    const [h, p, sig] = token.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as JWTPayload;
    const forged = Buffer.from(JSON.stringify({ ...payload, sub: "+447400000001", phone_number: "+447400000001" })).toString("base64url");
    await expect(verify(`${h}.${forged}.${sig}`)).rejects.toMatchObject({ code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
    // A flipped signature byte fails too.
    const bad = Buffer.from(sig, "base64url");
    bad[0]! ^= 1;
    await expect(verify(`${h}.${p}.${bad.toString("base64url")}`)).rejects.toMatchObject({ code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
  });

  it("refuses a token for another service (wrong audience)", async () => {
    const other = await createCoreService(s, { friendlyName: "Other" });
    const { token } = await approve(other);
    await expect(verify(token, serviceId)).rejects.toMatchObject({ code: "ERR_JWT_CLAIM_VALIDATION_FAILED", claim: "aud" });
    await expect(verify(token, other)).resolves.toBeDefined();
  });

  it("redeems a token once; a second redemption, another service's audience and a forgery are refused", async () => {
    const { token, v, to } = await approve();
    const first = ok(await s.gql<{ redeemApprovalToken: Record<string, string> }>(REDEEM, { token, serviceId }));
    expect(first.redeemApprovalToken).toMatchObject({ serviceId, verificationId: v.id, to, channel: "SMS" });
    expect(errorOf(await s.gql(REDEEM, { token, serviceId }))).toMatchObject({ code: "APPROVAL_TOKEN_USED", errorCode: 20409 });

    const other = await approve();
    expect(errorOf(await s.gql(REDEEM, { token: other.token, serviceId: "VA" + "0".repeat(32) }))).toMatchObject({ code: "APPROVAL_TOKEN_INVALID" });
    const [h, p, sig] = other.token.split(".") as [string, string, string];
    const flipped = Buffer.from(sig, "base64url");
    flipped[0]! ^= 1;
    expect(errorOf(await s.gql(REDEEM, { token: `${h}.${p}.${flipped.toString("base64url")}` }))).toMatchObject({ code: "APPROVAL_TOKEN_INVALID" });
    expect(errorOf(await s.gql(REDEEM, { token: "not.a.jwt" }))).toMatchObject({ code: "APPROVAL_TOKEN_INVALID" });
    // The refused attempts did not burn it.
    expect(ok(await s.gql<{ redeemApprovalToken: { verificationId: string } }>(REDEEM, { token: other.token })).redeemApprovalToken.verificationId).toBe(other.v.id);
  });

  it("lets only admin keys redeem (a publishable key could burn its user's token)", async () => {
    const { token } = await approve();
    const client = await createClientKey(s, serviceId);
    expect(errorOf(await s.gql(REDEEM, { token }, client.secret))).toMatchObject({ code: "FORBIDDEN" });
  });

  it("stores signing keys sealed: the database holds no private key in clear", () => {
    const rows = queryDb<{ kid: string; public_jwk: string; sealed_private_jwk: string }>(s, "select kid, public_jwk, sealed_private_jwk from approval_keys");
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const r of rows) {
      expect(r.sealed_private_jwk).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(r.sealed_private_jwk).not.toContain('"d"');
      expect(JSON.parse(r.public_jwk).d).toBeUndefined();
    }
  });

  it("rotates keys at the period's end and keeps tokens of the previous key valid until they expire", async () => {
    const before = await approve();
    const oldKid = decodeProtectedHeader(before.token).kid;
    clock.advance(150_000); // across the hourly boundary
    const after = await approve();
    const newKid = decodeProtectedHeader(after.token).kid;
    expect(newKid).not.toBe(oldKid);

    const published = ((await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(published).toContain(oldKid);
    expect(published).toContain(newKid);
    await expect(verify(before.token)).resolves.toBeDefined();
    await expect(verify(after.token)).resolves.toBeDefined();
    // The old token still expires on time.
    await expect(verify(before.token, serviceId, clock.now() + 300_000)).rejects.toMatchObject({ code: "ERR_JWT_EXPIRED" });
  });

  it("shares keys through the database: a second instance publishes the same keys and verifies the first's tokens", async () => {
    const { token } = await approve();
    const second = await startServer({ clock, dbFile: s.dbFile, env: { APPROVAL_KEY_ROTATION_HOURS: "1", PUBLIC_URL: "https://verify.example.test" } });
    try {
      const a = ((await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] }).keys;
      const b = ((await (await fetch(`${second.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] }).keys;
      expect(b).toEqual(a);
      const redeemed = ok(await second.gql<{ redeemApprovalToken: { serviceId: string } }>(REDEEM, { token, serviceId }));
      expect(redeemed.redeemApprovalToken.serviceId).toBe(serviceId);
    } finally {
      await second.close();
    }
  });
});
