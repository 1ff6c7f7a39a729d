import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { ADMIN_KEY, createClientKey, createCoreService, freshMobile, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { assertCodedErrors, businessFingerprint, codeLike, FUZZ_RUNS, FUZZ_SEED, hostileString, idLike, mutationArbitraries, phoneLike, type FuzzOperation } from "./helpers/fuzz.js";

/**
 * Fuzzing as tests (issue 13): every mutation of the schema, with arguments generated from its types
 * (hostile strings, wrong types, huge numbers, unknown ids, phone numbers and codes of every shape),
 * as an admin key and as a client key, and every REST endpoint with fuzzed form parameters. For each:
 * never a 5xx, every error coded from the catalog (never INTERNAL, no internals), and a refused request
 * writes nothing (the attempts log and the limiter counters aside, which record refusals on purpose).
 *
 * `npm test` runs FUZZ_RUNS=20 per property (a few seconds); `npm run fuzz` runs thousands.
 */

const params = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true } as const;

describe("fuzzed inputs", () => {
  // A frozen clock: nothing expires while a request runs, so a refused request has no reason to write.
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 12, 0));
  let s: TestServer;
  let clientKey: string;
  let ids: fc.Arbitrary<string>;
  let serviceId: string;
  let verificationId: string;
  let fingerprint: ReturnType<typeof businessFingerprint>;

  beforeAll(async () => {
    s = await startServer({ clock });
    serviceId = await createCoreService(s, { customCodeEnabled: true, psd2Enabled: true });
    clientKey = (await createClientKey(s, serviceId)).secret;
    verificationId = (await startVerification(s, { serviceId, to: freshMobile() })).id;
    ids = idLike([serviceId, verificationId]);
    fingerprint = businessFingerprint(s);
  });
  afterAll(async () => {
    fingerprint?.close();
    await s?.close();
  });

  /** Sends one request; checks the properties; returns whether it was refused. */
  async function probe(label: string, send: () => Promise<Response>, refusedOf: (status: number, body: unknown) => boolean): Promise<void> {
    await s.app.dispatcher.idle();
    const before = fingerprint.read();
    const res = await send();
    const text = await res.text();
    expect(res.status, `${label}: ${text.slice(0, 500)}`).toBeLessThan(500);
    const body = JSON.parse(text) as unknown;
    if (refusedOf(res.status, body)) {
      await s.app.dispatcher.idle();
      expect(fingerprint.read(), `${label} was refused but wrote: ${text.slice(0, 300)}`).toBe(before);
    }
  }

  const gql = (key: string, op: FuzzOperation) => () =>
    fetch(s.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ query: op.query, variables: op.variables }) });

  /** A GraphQL answer is refused when it has errors and its field is null (or there is no data). */
  const gqlRefused = (field: string) => (_status: number, body: unknown) => {
    const b = body as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string; errorCode?: number } }[] };
    assertCodedErrors(b, field);
    return !!b.errors?.length && (b.data == null || b.data[field] == null);
  };

  it("every mutation, as admin and as client: no 5xx, coded errors only, nothing written when refused", async () => {
    const mutations = mutationArbitraries(s.app.schema, ids);
    expect(mutations.length).toBeGreaterThan(20);
    for (const { field, arbitrary } of mutations) {
      await fc.assert(
        fc.asyncProperty(arbitrary, fc.boolean(), async (op, asAdmin) => {
          await probe(`${field} ${JSON.stringify(op.variables).slice(0, 300)}`, gql(asAdmin ? ADMIN_KEY : clientKey, op), gqlRefused(field));
        }),
        params,
      );
    }
  });

  it("arbitrary JSON bodies and documents: no 5xx, coded errors only", async () => {
    const body = fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify({ query: v })), hostileString.map((q) => JSON.stringify({ query: q, variables: {} })));
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const res = await fetch(s.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` }, body: raw });
        expect(res.status).toBeLessThan(500);
        assertCodedErrors((await res.json()) as never, `body ${raw.slice(0, 200)}`);
      }),
      params,
    );
  });

  /** Twilio's REST API: form parameters, Basic auth with the instance's account SID and a key. */
  const rest = (method: string, path: string, form: Record<string, string>, key = ADMIN_KEY) => () => {
    const auth = "Basic " + Buffer.from(`${s.app.services.apiKeys.accountSid}:${key}`).toString("base64");
    const hasBody = method === "POST";
    return fetch(`${s.url}/v2${path}`, {
      method,
      headers: { authorization: auth, ...(hasBody ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
      body: hasBody ? new URLSearchParams(form).toString() : undefined,
    });
  };
  /** A Twilio error body: numeric `code`, `status` equal to the HTTP status, and a message without internals. */
  const restRefused = (label: string) => (status: number, body: unknown) => {
    if (status < 400) return false;
    const b = body as { code?: unknown; status?: unknown; message?: unknown };
    if (typeof b.code !== "number" || b.status !== status || typeof b.message !== "string") throw new Error(`${label}: not a Twilio error body: ${JSON.stringify(body)}`);
    if (/\.ts:\d+|node_modules|SQLITE_|TypeError/.test(b.message)) throw new Error(`${label}: internals: ${b.message}`);
    return true;
  };

  /** A path segment percent-encoded byte by byte (lone surrogates become U+FFFD, as any client would send). */
  const seg = (v: string) => [...Buffer.from(v, "utf8")].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
  const formOf = (fields: Record<string, fc.Arbitrary<string>>) =>
    fc.record(Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, fc.oneof({ arbitrary: a, weight: 4 }, { arbitrary: hostileString, weight: 1 })])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
  const bool = fc.constantFrom("true", "false", "True", "1", "yes");
  const int = fc.oneof(fc.integer({ min: -5, max: 100_000 }).map(String), hostileString);
  const json = fc.oneof(fc.json(), fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })).map((d) => JSON.stringify(d)));

  it.each([
    ["POST /Services", () => fc.record({ form: formOf({ FriendlyName: hostileString, CodeLength: int, TtlSeconds: int, MaxCheckAttempts: int, MaxSendAttempts: int, SmsTemplate: hostileString, Psd2Enabled: bool, CustomCodeEnabled: bool, LookupEnabled: bool }) }).map(({ form }) => ["POST", "/Services", form] as const)],
    ["POST /Services/{sid}", () => fc.record({ sid: ids, form: formOf({ FriendlyName: hostileString, CodeLength: int, SmsTemplate: hostileString, SkipSmsToLandlines: bool }) }).map(({ sid, form }) => ["POST", `/Services/${seg(sid)}`, form] as const)],
    ["POST /Services/{sid}/Verifications", () => fc.record({ sid: ids, form: formOf({ To: phoneLike, Channel: fc.constantFrom("sms", "call", "email", "whatsapp", "SMS"), Locale: fc.constantFrom("en", "pt-BR", "xx-!!"), CustomCode: codeLike, CustomFriendlyName: hostileString, Amount: hostileString, Payee: hostileString, RateLimits: json, Tags: json, RiskCheck: fc.constantFrom("enable", "disable", "maybe"), DeviceIp: fc.oneof(fc.ipV4(), fc.ipV6(), hostileString) }) }).map(({ sid, form }) => ["POST", `/Services/${seg(sid)}/Verifications`, form] as const)],
    ["POST /Services/{sid}/VerificationCheck", () => fc.record({ sid: ids, form: formOf({ Code: codeLike, To: phoneLike, VerificationSid: ids, Amount: hostileString, Payee: hostileString }) }).map(({ sid, form }) => ["POST", `/Services/${seg(sid)}/VerificationCheck`, form] as const)],
    ["POST /Services/{sid}/Verifications/{sid}", () => fc.record({ sid: ids, v: ids, form: formOf({ Status: fc.constantFrom("canceled", "approved", "pending", "") }) }).map(({ sid, v, form }) => ["POST", `/Services/${seg(sid)}/Verifications/${seg(v)}`, form] as const)],
    ["GET /Services/{sid}/Verifications/{sid}", () => fc.record({ sid: ids, v: fc.oneof(ids, phoneLike) }).map(({ sid, v }) => ["GET", `/Services/${seg(sid)}/Verifications/${seg(v)}`, {}] as const)],
    ["GET and DELETE /Services/{sid}", () => fc.record({ sid: fc.oneof(ids.filter((i) => i !== serviceId)), method: fc.constantFrom("GET", "DELETE") }).map(({ sid, method }) => [method, `/Services/${seg(sid)}`, {}] as const)],
  ] as const)("REST %s, as admin and as client: no 5xx, Twilio-coded errors only, nothing written when refused", async (label, arb) => {
    await fc.assert(
      fc.asyncProperty(arb(), fc.boolean(), async ([method, path, form], asAdmin) => {
        await probe(`${label} ${path} ${JSON.stringify(form).slice(0, 300)}`, rest(method, path, form as Record<string, string>, asAdmin ? ADMIN_KEY : clientKey), restRefused(label));
      }),
      params,
    );
  });
});
