import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCatalog } from "../src/errors.js";
import { CANCEL, CHECK, codesSent, createService, errorOf, freshMobile, ok, queryDb, START, startServer, startVerification, type TestServer, type VerificationView } from "./helpers/harness.js";

const SET_BUDGET = `mutation($serviceId: ID!, $cents: Int) { setDailyBudget(serviceId: $serviceId, cents: $cents) { budgetUsd } }`;

/** A verification minus what is unique to it, for comparing two answers' shape. */
function shape(v: VerificationView) {
  return { ...v, id: typeof v.id, to: typeof v.to, sendCodeAttempts: v.sendCodeAttempts.map((a) => ({ ...a, id: typeof a.id, at: typeof a.at })) };
}

/**
 * Responses must not tell whether a number was seen before. What is guaranteed, and tested here:
 * a start answers alike for a never-seen number and for one with past verifications; a refused
 * request carries only its code (no stage, reason or detail), the same for either; checks by `to`
 * answer 20404 alike for a never-seen number and for one with nothing pending, and count against
 * the same per-number limit, so probing unknown numbers is limited like guessing known ones.
 * What stays visible, by design (as in Twilio Verify): a start while a verification is PENDING is a
 * resend (a second send attempt), and a check against a PENDING verification answers valid: false.
 * Both need a verification that this service's own key started within the TTL.
 */
describe("enumeration safety", () => {
  let s: TestServer;
  let serviceId: string;
  beforeAll(async () => {
    s = await startServer();
    serviceId = await createService(s);
  });
  afterAll(async () => s?.close());

  /** A number with an approved verification in the past. */
  async function seenNumber(): Promise<string> {
    const to = freshMobile();
    await startVerification(s, { serviceId, to });
    const [code] = await codesSent(s, to);
    expect(ok(await s.gql<{ checkVerification: { valid: boolean } }>(CHECK, { input: { serviceId, to, code } })).checkVerification.valid).toBe(true);
    return to;
  }

  it("answers a start to a never-seen number exactly like one to a number verified before", async () => {
    const seen = await seenNumber();
    const again = await startVerification(s, { serviceId, to: seen });
    const fresh = await startVerification(s, { serviceId, to: freshMobile() });
    expect(shape(again)).toEqual(shape(fresh));
    expect(fresh.sendCodeAttempts).toHaveLength(1);
  });

  it("answers a check by `to` with the same 20404 for a never-seen number and for a verified one", async () => {
    const seen = await seenNumber();
    const unknown = await s.gql(CHECK, { input: { serviceId, to: freshMobile(), code: "123456" } });
    const known = await s.gql(CHECK, { input: { serviceId, to: seen, code: "123456" } });
    expect(errorOf(unknown)).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    expect(known.errors).toEqual(unknown.errors);
  });

  it("limits checks against a never-seen number like checks against a known one", async () => {
    const unknown = freshMobile();
    for (let i = 0; i < 10; i++) expect(errorOf(await s.gql(CHECK, { input: { serviceId, to: unknown, code: "123456" } })).code).toBe("NOT_FOUND");
    expect(errorOf(await s.gql(CHECK, { input: { serviceId, to: unknown, code: "123456" } }))).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
  });

  it("refuses a start with its code and nothing else, identically for a seen and an unseen number", async () => {
    const seen = await seenNumber();
    const closed = await createService(s);
    ok(await s.gql(SET_BUDGET, { serviceId: closed, cents: 0 }));
    const a = await s.gql(START, { input: { serviceId: closed, to: seen, channel: "SMS" } });
    const b = await s.gql(START, { input: { serviceId: closed, to: freshMobile(), channel: "SMS" } });
    for (const r of [a, b]) {
      expect(r.data).toBeNull();
      expect(r.errors).toHaveLength(1);
      const [e] = r.errors!;
      expect(e!.message).toBe(ErrorCatalog.SPEND_LIMIT_REACHED.message);
      expect(Object.keys(e!.extensions).sort()).toEqual(["code", "errorCode", "retryAfterSeconds"]);
    }
    const strip = (r: typeof a) => r.errors!.map((e) => ({ ...e, extensions: { ...e.extensions, retryAfterSeconds: 0 } }));
    expect(strip(a)).toEqual(strip(b));
  });

  it("says nothing of which limit refused a start", async () => {
    const to = freshMobile();
    // Five verifications (each canceled), so the per-number limit answers, not the send cap (60203).
    for (let i = 0; i < 5; i++) ok(await s.gql(CANCEL, { serviceId, id: (await startVerification(s, { serviceId, to })).id }));
    const r = await s.gql(START, { input: { serviceId, to, channel: "SMS" } });
    const [e] = r.errors!;
    expect(e!.message).toBe(ErrorCatalog.RATE_LIMITED.message);
    expect(Object.keys(e!.extensions).sort()).toEqual(["code", "errorCode", "retryAfterSeconds"]);
    expect(JSON.stringify(r)).not.toMatch(/per number|limits|stage|reason/i);
    // The reason is kept for the operator, in the decision log.
    const [row] = queryDb<{ stage: string; reason: string }>(s, "select stage, reason from risk_decisions where to_number = ? and outcome = 'BLOCKED'", to);
    expect(row).toEqual({ stage: "limits", reason: "starts per number: 5 per 600s" });
  });
});

describe("tags on the decision log", () => {
  let s: TestServer;
  let serviceId: string;
  beforeAll(async () => {
    s = await startServer();
    serviceId = await createService(s);
  });
  afterAll(async () => s?.close());

  const tagsOf = (to: string) => queryDb<{ tags: string | null; outcome: string }>(s, "select tags, outcome from risk_decisions where to_number = ? order by created_at", to);

  it("keeps up to 10 key/value tags on the start's decision row", async () => {
    const to = freshMobile();
    const tags = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    await startVerification(s, { serviceId, to, tags });
    const [row] = tagsOf(to);
    expect(row!.outcome).toBe("ALLOWED");
    expect(JSON.parse(row!.tags!)).toEqual(Object.fromEntries(tags.map((t) => [t.key, t.value])));
  });

  it("keeps the tags on a refused start too", async () => {
    const to = freshMobile();
    const closed = await createService(s);
    ok(await s.gql(SET_BUDGET, { serviceId: closed, cents: 0 }));
    await s.gql(START, { input: { serviceId: closed, to, channel: "SMS", tags: [{ key: "campaign", value: "spring" }] } });
    expect(tagsOf(to)).toEqual([{ tags: JSON.stringify({ campaign: "spring" }), outcome: "BLOCKED" }]);
  });

  it("refuses an 11th tag with 60200 and records nothing", async () => {
    const to = freshMobile();
    const tags = Array.from({ length: 11 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expect(errorOf(await s.gql(START, { input: { serviceId, to, channel: "SMS", tags } }))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
    expect(tagsOf(to)).toEqual([]);
  });

  it("leaves tags empty (null) when none are given", async () => {
    const to = freshMobile();
    await startVerification(s, { serviceId, to });
    expect(tagsOf(to)).toEqual([{ tags: null, outcome: "ALLOWED" }]);
  });
});
