import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK, CREATE_API_KEY, CREATE_SERVICE, createCoreService, errorOf, freshMobile, ok, queryDb, START, startServer, type TestServer } from "./helpers/harness.js";

/**
 * Input limits (issue 13, minor findings): every string argument has a maximum length, text that can
 * reach an SMS has no control or bidirectional characters, code-format errors say what is wrong, and
 * nothing is written for a refused request.
 */

const UPDATE_SERVICE = `mutation($id: ID!, $input: UpdateServiceInput!) { updateService(id: $id, input: $input) { id friendlyName smsTemplate } }`;

describe("input limits", () => {
  let s: TestServer;
  let serviceId: string;
  beforeAll(async () => {
    s = await startServer();
    serviceId = await createCoreService(s, { psd2Enabled: true, customCodeEnabled: true });
  });
  afterAll(async () => s?.close());

  const count = (table: string) => queryDb<{ n: number }>(s, `select count(*) as n from ${table}`)[0]!.n;

  it.each([
    ["an API key name of 10 kB", CREATE_API_KEY, { role: "ADMIN", name: "x".repeat(10_240) }, /^variables\.name: strings are at most 4096 characters$/],
    ["an API key name of 101 characters", CREATE_API_KEY, { role: "ADMIN", name: "x".repeat(101) }, /^name: must be at most 100 characters \(got 101\)$/],
    ["an API key name with a newline", CREATE_API_KEY, { role: "ADMIN", name: "ops\nadmin" }, /^name: must not contain control characters \(U\+000A at position 4\)$/],
  ])("refuses %s (60200) and writes no key", async (_why, query, variables, message) => {
    const before = count("api_keys");
    expect(errorOf(await s.gql(query, variables))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, message: expect.stringMatching(message) });
    expect(count("api_keys")).toBe(before);
  });

  it.each([
    ["a 10 kB amount", { amount: "9".repeat(10_240), payee: "Acme" }, /^variables\.input\.amount: strings are at most 4096/],
    ["a 300-character payee", { amount: "10.00", payee: "p".repeat(300) }, /^payee: must be at most 256 characters/],
    ["a payee with a right-to-left override", { amount: "10.00", payee: "Acme\u202Eevil" }, /^payee: must not contain bidirectional formatting characters \(U\+202E at position 5\)$/],
    ["a custom friendly name with NUL", { customFriendlyName: "Acme\u0000Bank" }, /^customFriendlyName: must not contain control characters \(U\+0000 at position 5\)$/],
    ["a custom friendly name with an isolate", { customFriendlyName: "Acme\u2066Bank" }, /^customFriendlyName: must not contain bidirectional/],
    ["a custom code in fullwidth digits", { customCode: "１２３４５６" }, /^customCode: must be 4 to 10 digits 0-9: character 1 is a fullwidth digit \(U\+FF11\)$/],
  ])("refuses a start with %s (60200) and sends nothing", async (_why, extra, message) => {
    const to = freshMobile();
    const before = count("verifications");
    const r = await s.gql(START, { input: { serviceId, to, channel: "SMS", ...extra } });
    expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, message: expect.stringMatching(message) });
    expect(count("verifications")).toBe(before);
  });

  it.each([
    ["a friendly name with NUL", { friendlyName: "Acme\u0000" }, /^friendlyName: must not contain control characters \(U\+0000/],
    ["a friendly name with a newline", { friendlyName: "Acme\nYour code is 000000" }, /^friendlyName: must not contain control characters \(U\+000A/],
    ["a friendly name with a right-to-left override", { friendlyName: "\u202Eemca" }, /^friendlyName: must not contain bidirectional formatting characters \(U\+202E at position 1\)/],
    ["a template with a right-to-left mark", { smsTemplate: "Code {code}\u200F" }, /^smsTemplate: must not contain bidirectional/],
    ["a template with a tab", { smsTemplate: "Code\t{code}" }, /^smsTemplate: must not contain control characters \(U\+0009/],
  ])("refuses a service with %s (60200), created or updated, and changes nothing", async (_why, input, message) => {
    const before = count("services");
    expect(errorOf(await s.gql(CREATE_SERVICE, { input: { friendlyName: "Acme", ...input } }))).toMatchObject({ errorCode: 60200, message: expect.stringMatching(message) });
    expect(count("services")).toBe(before);
    expect(errorOf(await s.gql(UPDATE_SERVICE, { id: serviceId, input }))).toMatchObject({ errorCode: 60200, message: expect.stringMatching(message) });
    expect(queryDb(s, "select friendly_name, sms_template from services where id = ?", serviceId)).toEqual([{ friendly_name: "Acme", sms_template: null }]);
  });

  it("keeps a multi-line template (line feeds are text)", async () => {
    const id = await createCoreService(s);
    const r = ok(await s.gql<{ updateService: { smsTemplate: string } }>(UPDATE_SERVICE, { id, input: { smsTemplate: "Acme\nYour code: {code}" } }));
    expect(r.updateService.smsTemplate).toBe("Acme\nYour code: {code}");
  });

  it.each([
    ["7 fullwidth digits", "１２３４５６７", "must be 4 to 10 letters or digits (A-Z, a-z, 0-9): character 1 is a fullwidth digit (U+FF11)"],
    ["Arabic-Indic digits", "١٢٣٤٥٦", "must be 4 to 10 letters or digits (A-Z, a-z, 0-9): character 1 is a non-ASCII digit (U+0661)"],
    ["a space inside", "123 456", "must be 4 to 10 letters or digits (A-Z, a-z, 0-9): character 4 is a space (U+0020)"],
    ["a dash", "123-456", "must be 4 to 10 letters or digits (A-Z, a-z, 0-9): character 4 is a character that is not allowed (U+002D)"],
    ["too short", "12", "must be 4 to 10 letters or digits (A-Z, a-z, 0-9) (got 2 characters)"],
  ])("says what is wrong with a code of %s", async (_why, code, message) => {
    const r = await s.gql(CHECK, { input: { serviceId, to: freshMobile(), code } });
    expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200, message: `code: ${message}` });
  });

  it("bounds every other string argument too: a 5,000-character safe-list note is refused before the resolver", async () => {
    const r = await s.gql(`mutation($n: String!, $note: String) { addSafeNumber(number: $n, note: $note) { number } }`, { n: "+447400000001", note: "n".repeat(5_000) });
    expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", message: "variables.note: strings are at most 4096 characters" });
    expect(r.status).toBe(400);
    const literal = await s.gql(`mutation { addSafeNumber(number: "+447400000001", note: "${"n".repeat(5_000)}") { number } }`);
    expect(errorOf(literal)).toMatchObject({ code: "INVALID_PARAMETER", message: "a string in the query: strings are at most 4096 characters" });
    expect(count("safe_numbers")).toBe(0);
  });
});
