import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { ADMIN_KEY, CHECK, createClientKey, createCoreService, errorOf, freshMobile, latestCode, ok, START, startServer, VERIFICATION, type TestServer } from "./helpers/harness.js";

/**
 * Authenticate before any work (issue 13, finding 1): an anonymous request costs only the key check.
 * Finding 4: a subscription sent over HTTP is refused with 400 and a code, nothing logged as an error.
 * The CPU and latency figures (an anonymous 56 kB request under 2 ms, /healthz under load) are measured
 * by `npm run bench` (bench/auth-gate.ts), not timed here.
 */

/** The request of the audit: 3,000 aliases of `services { id }`, about 56 kB. */
const ALIASES_56K = `{${Array.from({ length: 3000 }, (_, i) => `a${i}:services{id}`).join(" ")}}`;

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] }; contentType: string | null; wwwAuthenticate: string | null }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, json: (await res.json()) as never, contentType: res.headers.get("content-type"), wwwAuthenticate: res.headers.get("www-authenticate") };
}

describe("authenticate before any work", () => {
  let s: TestServer;
  const logLines: string[] = [];
  beforeAll(async () => {
    s = await startServer({ log: createLogger("debug", (l) => logLines.push(l)) });
  });
  beforeEach(() => {
    logLines.length = 0;
  });
  afterAll(async () => s?.close());

  it("answers the audit's anonymous 56 kB, 3,000-alias query 401 / 20401 without running it", async () => {
    expect(JSON.stringify({ query: ALIASES_56K }).length).toBeGreaterThan(55_000);
    expect(JSON.stringify({ query: ALIASES_56K }).length).toBeLessThan(60_000);
    const r = await post(s.graphqlUrl, JSON.stringify({ query: ALIASES_56K }));
    expect(r.status).toBe(401);
    expect(r.wwwAuthenticate).toMatch(/^Bearer/);
    expect(r.json).toEqual({ errors: [{ message: expect.stringMatching(/Authentication required/), extensions: { code: "UNAUTHENTICATED", errorCode: 20401 } }] });
  });

  it.each([
    ["no Authorization header", {}],
    ["a malformed header", { authorization: "Basic Zm9vOmJhcg==" }],
    ["an unknown key", { authorization: "Bearer vg_pk_not-a-key-of-this-server" }],
  ])("answers 20401 to %s before reading the body: a body that is not even JSON gets the same answer", async (_why, headers) => {
    const r = await post(s.graphqlUrl, "{ this is not json", headers);
    expect(r.status).toBe(401);
    expect(r.json.errors?.[0]?.extensions).toEqual({ code: "UNAUTHENTICATED", errorCode: 20401 });
  });

  it("answers 20401, not 413, to an anonymous body of 1 MB: it is never read", async () => {
    const r = await post(s.graphqlUrl, JSON.stringify({ query: `{ ${"x ".repeat(500_000)} }` }));
    expect(r.status).toBe(401);
    expect(r.json.errors?.[0]?.extensions).toMatchObject({ errorCode: 20401 });
  });

  it("answers an anonymous GET query 401 too, in the media type the client accepts", async () => {
    const res = await fetch(`${s.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "application/graphql-response+json" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/graphql-response\+json/);
  });

  it("still serves the GraphiQL page to a browser without a key (the page holds no data)", async () => {
    const res = await fetch(s.graphqlUrl, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("refuses anonymous introspection by default and allows it with any key", async () => {
    const anonymous = await post(s.graphqlUrl, JSON.stringify({ query: getIntrospectionQuery() }));
    expect(anonymous.status).toBe(401);
    const admin = ok(await s.gql<{ __schema: { queryType: { name: string } } }>(getIntrospectionQuery()));
    expect(admin.__schema.queryType.name).toBe("Query");
    const serviceId = await createCoreService(s);
    const client = await createClientKey(s, serviceId);
    expect(ok(await s.gql<{ __schema: { queryType: { name: string } } }>(getIntrospectionQuery(), {}, client.secret)).__schema.queryType.name).toBe("Query");
  });

  it("gives a CLIENT key a small cost budget: the 3,000-alias query is refused as too costly before it runs", async () => {
    const client = await createClientKey(s, await createCoreService(s));
    const r = await s.gql(ALIASES_56K, {}, client.secret);
    expect(errorOf(r)).toMatchObject({ code: "QUERY_TOO_COMPLEX", errorCode: 20400, message: expect.stringMatching(/costs 3000; at most 40/) });
    // An admin key keeps the larger budget (3,000 objects fit in 5,000).
    expect((await s.gql(`{ ${Array.from({ length: 100 }, (_, i) => `a${i}: services { id }`).join(" ")} }`)).errors).toBeUndefined();
  });

  it("a CLIENT key's budget fits a start, a check and a read, each with everything a client selects", async () => {
    const serviceId = await createCoreService(s);
    const client = await createClientKey(s, serviceId);
    const to = freshMobile();
    const v = ok(await s.gql<{ startVerification: { id: string } }>(START, { input: { serviceId, to, channel: "SMS" } }, client.secret)).startVerification;
    expect(ok(await s.gql(VERIFICATION, { serviceId, id: v.id }, client.secret))).toBeTruthy();
    const code = await latestCode(s, to);
    expect(ok(await s.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId, to, code } }, client.secret)).checkVerification.status).toBe("APPROVED");
    // Five reads of that size in one document are not what a client needs: refused.
    const fiveReads = `query($s: ID!, $id: ID!) { ${Array.from({ length: 5 }, (_, i) => `r${i}: verification(serviceId: $s, id: $id) { id status sendCodeAttempts { id } lookup { countryCode } }`).join(" ")} }`;
    expect(errorOf(await s.gql(fiveReads, { s: serviceId, id: v.id }, client.secret))).toMatchObject({ code: "QUERY_TOO_COMPLEX" });
  });

  it("says 'Request body too large' (413) for a keyed body over 64 kB", async () => {
    const r = await post(s.graphqlUrl, JSON.stringify({ query: `{ ${"__typename ".repeat(8000)} }` }), { authorization: `Bearer ${ADMIN_KEY}` });
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ errors: [{ message: "Request body too large", extensions: { code: "REQUEST_TOO_LARGE", errorCode: 20400 } }] });
  });

  it.each([
    ["POST", "application/json"],
    ["POST", "application/graphql-response+json"],
  ])("answers a subscription sent by HTTP %s (accept %s) 400 SUBSCRIPTION_NEEDS_WEBSOCKET, and logs no error", async (_method, accept) => {
    const serviceId = await createCoreService(s);
    const r = await post(s.graphqlUrl, JSON.stringify({ query: `subscription($s: ID!) { verificationEvents(serviceId: $s) { type } }`, variables: { s: serviceId } }), {
      authorization: `Bearer ${ADMIN_KEY}`,
      accept,
    });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([{ message: expect.stringMatching(/WebSocket/), extensions: { code: "SUBSCRIPTION_NEEDS_WEBSOCKET", errorCode: 20400 } }]);
    expect(logLines.filter((l) => JSON.parse(l).level === "error")).toEqual([]);
    expect(logLines.join("\n")).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});

describe("INTROSPECTION=public", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { INTROSPECTION: "public" } });
  });
  afterAll(async () => s?.close());

  it("lets anyone fetch the schema (GraphiQL without a key)", async () => {
    const r = await post(s.graphqlUrl, JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, schemaDescription: true }) }));
    expect(r.status).toBe(200);
    expect((r.json.data as { __schema: { queryType: { name: string } } }).__schema.queryType.name).toBe("Query");
  });

  it.each([
    ["a data field next to introspection", "{ __typename services { id } }"],
    ["a mutation", `mutation { revokeApiKey(id: "VKx") { revoked } }`],
    ["a fragment that reaches data", "{ ...F } fragment F on Query { services { id } }"],
    ["the 56 kB alias query", ALIASES_56K],
  ])("still answers %s 20401 without a key", async (_why, query) => {
    const r = await post(s.graphqlUrl, JSON.stringify({ query }));
    expect(r.status).toBe(401);
    expect(r.json.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED" });
  });
});
