import Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_KEY,
  CHECK,
  CREATE_SERVICE,
  START,
  VERIFICATION,
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
import { ErrorCatalog } from "../src/errors.js";

/**
 * Every error code the verification core answers, over real HTTP: each is a GraphQL error whose
 * `extensions` carry the stable `code` and Twilio's `errorCode`, with a human message and no internals.
 */

/** What must never reach a caller: stacks, source paths, driver names, SQL. */
const INTERNALS = /stacktrace|node_modules|\/src\/|\.ts:\d+|\bat [\w.<>]+ \(|SqliteError|SQLITE_|no such table|select |insert into|update "/i;

describe("error codes", () => {
  let s: TestServer;
  let serviceId: string;
  beforeAll(async () => {
    s = await startServer();
    serviceId = await createCoreService(s, { friendlyName: "Acme" });
  });
  afterAll(async () => s?.close());

  const start = (input: Record<string, unknown>, key?: string | null) => s.gql(START, { input: { serviceId, channel: "SMS", ...input } }, key);

  describe("60200 INVALID_PARAMETER", () => {
    it.each([
      ["a number that cannot be parsed", { to: "not a number" }, "to"],
      ["an impossible number", { to: "+4412" }, "to"],
      ["a possible but invalid number", { to: "+447700900123" }, "to"],
      ["a national number without a country", { to: "07400 123456" }, "to"],
      ["an empty number", { to: "" }, "to"],
      ["a custom code on a service that does not enable custom codes", { to: "+447400100001", customCode: "123456" }, "customCode"],
      ["an amount without a payee (PSD2)", { to: "+447400100002", amount: "10.00" }, "payee"],
      ["a payee without an amount (PSD2)", { to: "+447400100003", payee: "Acme Ltd" }, "amount"],
      ["a malformed locale", { to: "+447400100004", locale: "english please" }, "locale"],
    ])("is answered to a start with %s, naming the field in detail.field", async (_why, input, field) => {
      const r = await start(input);
      expect(r.data).toBeNull();
      expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, detail: { field } });
      expect(errorOf(r).message.length).toBeGreaterThan(0);
      expect(JSON.stringify(r)).not.toMatch(INTERNALS);
    });

    it("is answered to a malformed custom code on a service that enables custom codes", async () => {
      const custom = await createCoreService(s, { friendlyName: "Custom", customCodeEnabled: true });
      const r = await s.gql(START, { input: { serviceId: custom, to: freshMobile(), channel: "SMS", customCode: "12ab" } });
      expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
    });

    it.each([
      ["a code length below 4", { codeLength: 3 }],
      ["a code length above 10", { codeLength: 11 }],
      ["a TTL below 30 seconds", { ttlSeconds: 5 }],
      ["zero check attempts", { maxCheckAttempts: 0 }],
      ["an empty name", { friendlyName: "   " }],
      ["a template without {code}", { smsTemplate: "Hello" }],
    ])("is answered to createService with %s, naming the field", async (_why, input) => {
      const r = await s.gql(CREATE_SERVICE, { input: { friendlyName: "Acme", ...input } });
      const e = errorOf(r);
      expect(e).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, detail: { field: Object.keys(input)[0]! } });
      expect(e.message).toContain(Object.keys(input)[0]!);
    });

    it.each([
      ["a code that is too short", { to: "+447400100005", code: "12" }, "code"],
      ["a code with symbols", { to: "+447400100005", code: "12-456" }, "code"],
      ["neither a number nor a verification id", { code: "123456" }, "to"],
      ["an invalid number", { to: "+4412", code: "123456" }, "to"],
    ])("is answered to a check with %s, naming the field in detail.field", async (_why, input, field) => {
      const r = await s.gql(CHECK, { input: { serviceId, ...input } });
      expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, detail: { field } });
    });

    it.each([
      ["a syntax error", `mutation { startVerification(input: { serviceId: "x" }`, undefined],
      ["an unknown field", `query { services { id secretColumn } }`, undefined],
      ["a missing required input field", `mutation { startVerification(input: { serviceId: "x", to: "+447400100006" }) { id } }`, undefined],
      ["an unknown enum value in variables", START, { input: { serviceId: "x", to: "+447400100006", channel: "EMAIL" } }],
      ["a wrong variable type", CREATE_SERVICE, { input: { friendlyName: "A", codeLength: "six" } }],
      ["a missing required variable", START, {}],
    ])("is answered to a GraphQL request with %s (validation, before any resolver runs)", async (_why, query, variables) => {
      const r = await s.gql(query, variables);
      expect(r.data).toBeNull();
      expect(r.errors?.length).toBeGreaterThan(0);
      for (const e of r.errors!) expect(e.extensions).toEqual({ code: "INVALID_PARAMETER", errorCode: 60200 });
      expect(JSON.stringify(r)).not.toMatch(INTERNALS);
    });

    it("is answered with HTTP 400 to a body that is not JSON", async () => {
      const res = await fetch(s.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` },
        body: "{ this is not json",
      });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ errors: [{ message: "Bad request", extensions: { code: "INVALID_PARAMETER", errorCode: 60200 } }] });
      expect(text).not.toMatch(INTERNALS);
    });
  });

  it("answers 60202 MAX_CHECK_ATTEMPTS_REACHED to a check after the attempt limit", async () => {
    const svc = await createCoreService(s, { friendlyName: "Strict", maxCheckAttempts: 1 });
    const to = freshMobile();
    await startVerification(s, { serviceId: svc, to });
    const code = await latestCode(s, to);
    expect(ok(await s.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId: svc, to, code: "0000" } })).checkVerification.status).toBe("MAX_ATTEMPTS_REACHED");
    const r = await s.gql(CHECK, { input: { serviceId: svc, to, code } });
    expect(errorOf(r)).toMatchObject({ code: "MAX_CHECK_ATTEMPTS_REACHED", errorCode: 60202, message: "Max check attempts reached" });
  });

  it("answers 60203 MAX_SEND_ATTEMPTS_REACHED to the sixth send within one verification, and counts no sixth send", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    for (let i = 0; i < 4; i++) expect((await startVerification(s, { serviceId, to })).id).toBe(v.id);

    const sixth = await start({ to });
    expect(errorOf(sixth)).toMatchObject({ code: "MAX_SEND_ATTEMPTS_REACHED", errorCode: 60203 });
    expect(queryDb(s, "select send_attempts from verifications where id = ?", v.id)).toEqual([{ send_attempts: 5 }]);
    expect(queryDb(s, "select count(*) as n from send_attempts where verification_id = ?", v.id)).toEqual([{ n: 5 }]);
    // The verification itself is still good: the code that was sent five times checks.
    expect(ok(await s.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId, to, code: await latestCode(s, to) } })).checkVerification.status).toBe("APPROVED");
  });

  describe("60205 SMS_TO_LANDLINE", () => {
    const landline = "+442071838750"; // a London fixed line (libphonenumber: FIXED_LINE)

    it("is answered to an SMS to a fixed line when the service skips landlines", async () => {
      const svc = await createCoreService(s, { friendlyName: "NoLandline", skipSmsToLandlines: true });
      const r = await s.gql(START, { input: { serviceId: svc, to: landline, channel: "SMS" } });
      expect(errorOf(r)).toMatchObject({ code: "SMS_TO_LANDLINE", errorCode: 60205 });
      expect(queryDb(s, "select count(*) as n from verifications where service_id = ?", svc)).toEqual([{ n: 0 }]);
    });

    it("is not answered to a CALL to that fixed line, nor to an SMS when the service does not skip landlines", async () => {
      const svc = await createCoreService(s, { friendlyName: "NoLandline2", skipSmsToLandlines: true });
      const call = await startVerification(s, { serviceId: svc, to: landline, channel: "CALL" });
      expect(call.lookup).toEqual({ countryCode: "GB", lineType: "FIXED_LINE" });
      const sms = await startVerification(s, { serviceId, to: landline, channel: "SMS" });
      expect(sms.status).toBe("PENDING");
    });
  });

  describe("20404 NOT_FOUND", () => {
    it.each([
      ["a start on an unknown service", START, { input: { serviceId: "VA00000000000000000000000000000000", to: "+447400100007", channel: "SMS" } }],
      ["a check on an unknown service", CHECK, { input: { serviceId: "VA00000000000000000000000000000000", to: "+447400100007", code: "123456" } }],
      ["a check by an unknown verification id", CHECK, { input: { serviceId: "<svc>", verificationId: "VE00000000000000000000000000000000", code: "123456" } }],
      ["a read of an unknown verification", VERIFICATION, { serviceId: "<svc>", id: "VE00000000000000000000000000000000" }],
      ["a cancel of an unknown verification", `mutation($serviceId: ID!, $id: ID!) { cancelVerification(serviceId: $serviceId, id: $id) { id } }`, { serviceId: "<svc>", id: "nope" }],
      ["a read of an unknown service", `query { service(id: "VA00000000000000000000000000000000") { id } }`, {}],
      ["an update of an unknown service", `mutation { updateService(id: "VA00000000000000000000000000000000", input: { ttlSeconds: 60 }) { id } }`, {}],
    ])("is answered to %s", async (_why, query, variables) => {
      const vars = JSON.parse(JSON.stringify(variables).replaceAll("<svc>", serviceId)) as Record<string, unknown>;
      const r = await s.gql(query, vars);
      expect(errorOf(r)).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    });
  });

  describe("20401 UNAUTHENTICATED", () => {
    it.each([
      ["no Authorization header", null, {}],
      ["an unknown key", "vg_admin_not-a-real-key-0123456789abcdef", {}],
      ["a malformed header", null, { authorization: "Basic YWRtaW46YWRtaW4=" }],
      ["a Bearer with no key", null, { authorization: "Bearer " }],
      ["the admin key with one character changed", ADMIN_KEY.slice(0, -1) + "X", {}],
    ])("is answered to a request with %s, and nothing else is revealed", async (_why, key, headers) => {
      const r = await s.gql(START, { input: { serviceId, to: "+447400100008", channel: "SMS" } }, key, headers);
      expect(r.data).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(errorOf(r)).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
      expect(queryDb(s, "select count(*) as n from verifications where to_number = '+447400100008'")).toEqual([{ n: 0 }]);
    });
  });

  describe("20403 FORBIDDEN", () => {
    it("is answered to a client key used on another service", async () => {
      const other = await createCoreService(s, { friendlyName: "Other" });
      const { secret } = await createClientKey(s, other);
      expect(errorOf(await start({ to: freshMobile() }, secret))).toMatchObject({ code: "FORBIDDEN", errorCode: 20403 });
    });

    it("is answered to a client key used for an admin operation", async () => {
      const { secret } = await createClientKey(s, serviceId);
      expect(errorOf(await s.gql(CREATE_SERVICE, { input: { friendlyName: "Mine" } }, secret))).toMatchObject({ code: "FORBIDDEN", errorCode: 20403 });
    });
  });
});

describe("internal errors", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  /** Breaks the database under the running server, as a bad migration or a disk fault would. */
  function dropTable(table: string): void {
    const db = new Database(s.dbFile);
    try {
      db.pragma("foreign_keys = OFF");
      db.exec(`drop table ${table}`);
    } finally {
      db.close();
    }
  }

  it("are masked as INTERNAL with a request id: no message, stack, SQL or table name reaches the caller", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Broken" });
    dropTable("risk_decisions");

    const res = await fetch(s.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: START, variables: { input: { serviceId, to: freshMobile(), channel: "SMS" } } }),
    });
    const text = await res.text();
    const body = JSON.parse(text) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors).toHaveLength(1);
    const e = body.errors[0]!;
    expect(e.extensions).toEqual({ code: "INTERNAL", errorCode: 20500, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(e.message).toBe(`Internal error (request ${e.extensions.requestId as string})`);
    expect(text).not.toMatch(INTERNALS);
    expect(text).not.toContain("risk_decisions");
  });

  it("are masked when authentication itself fails (the key table is gone), not reported as a bad key", async () => {
    dropTable("api_keys");
    // A key this server has not seen yet: keys it knows come from its in-process cache
    // (store/config-cache.ts), so only an unseen one still has to be looked up in the broken table.
    const r = await s.gql(`query { services { id } }`, {}, "vg_admin_never_seen_0123456789abcdefghijklmnopqrstu");
    const e = errorOf(r);
    expect(e).toMatchObject({ code: "INTERNAL", errorCode: 20500 });
    expect(JSON.stringify(r)).not.toMatch(INTERNALS);
    expect(JSON.stringify(r)).not.toContain("api_keys");
  });
});

describe("the error table (docs/api.md)", () => {
  it("lists every code of the catalog with its Twilio number", () => {
    const doc = readFileSync(new URL("../docs/api.md", import.meta.url), "utf8");
    const section = /## Error codes\n([\s\S]*?)(?:\n## |$)/.exec(doc)?.[1] ?? "";
    const missing = Object.entries(ErrorCatalog)
      .filter(([code, { errorCode }]) => !new RegExp(`\\| \`${code}\` \\| ${errorCode} \\|`).test(section))
      .map(([code]) => code);
    expect(missing).toEqual([]);
  });
});
