import { getIntrospectionQuery } from "graphql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, createService, errorOf, ok, startServer, type TestServer } from "./helpers/harness.js";
import { record, wsClient, type WsClient } from "./helpers/ws.js";

/**
 * Query cost limits (src/graphql/cost.ts): a depth limit and a cost limit, checked before any
 * resolver runs, over HTTP and WebSocket. Errors are QUERY_TOO_COMPLEX (20400) through the one error
 * formatter. Cost here: 1000 per report (`fraudStats`), 500 per top list, 250 per summary, 100 per page
 * of the log, 1 per other object, 0 per scalar, and what is below a `first`/`limit` list counted that
 * many times (a variable as 100).
 */

const RANGE = `from: "2026-01-01T00:00:00Z", until: "2026-01-02T00:00:00Z"`;
const ROW = "country attempts allowed blocked sends approvals conversionRatePercentage preventedSends savedUsd";
const aliases = (n: number, body: (i: number) => string) => Array.from({ length: n }, (_, i) => `a${i}: ${body(i)}`).join("\n");

describe("query cost limits (defaults: depth 10, cost 5000)", () => {
  let s: TestServer;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    s = await startServer();
    await createService(s);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => s?.close());

  it("a full fraud report (totals, 1,000 rows, both top lists, group count: cost 2002) is within the limit", async () => {
    const q = `{ fraudStats(${RANGE}, groupBy: [COUNTRY, DAY]) { groupCount totals { ${ROW} } rows(limit: 1000) { ${ROW} } topBlockedPrefixes(limit: 100) { prefix blocked } topBlockedCountries { country blocked } } }`;
    const r = await s.gql(q);
    expect(r.errors).toBeUndefined();
    expect(r.status).toBe(200);
  });

  it("four reports fit; five with a top list each are refused before anything runs: 20400 QUERY_TOO_COMPLEX, the cost in the message", async () => {
    // A report: 1000 (fraudStats) + 1 (totals, an object; its scalars are free) = 1001, four = 4004.
    // With a top list (its own declared 500): 1501, five = 7505.
    expect((await s.gql(`{ ${aliases(4, () => `fraudStats(${RANGE}) { totals { attempts } }`)} }`)).errors).toBeUndefined();
    const tooCostly = `{ ${aliases(5, () => `fraudStats(${RANGE}) { totals { attempts } topBlockedCountries { blocked } }`)} }`;
    const r = await s.gql(tooCostly);
    // Like a validation error: 200 under application/json, 400 under application/graphql-response+json (GraphQL over HTTP).
    expect(r.status).toBe(200);
    expect((await s.gql(tooCostly, {}, ADMIN_KEY, { accept: "application/graphql-response+json" })).status).toBe(400);
    expect(r.data).toBeNull();
    expect(errorOf(r)).toMatchObject({ code: "QUERY_TOO_COMPLEX", errorCode: 20400, message: expect.stringMatching(/costs 7505; at most 5000/) });
    expect(Object.keys(r.errors![0]!.extensions).sort()).toEqual(["code", "errorCode"]);
  });

  it("pages multiply what is below them; a page size given as a variable counts as 100", async () => {
    // Each alias: 100 + 100 × (edge 1 + node 1) = 300. Sixteen fit (4800), seventeen do not (5100).
    const page = (n: number, first: string) =>
      `query${first === "$n" ? "($n: Int!)" : ""} { ${aliases(n, () => `verificationAttempts(first: ${first}) { edges { cursor node { id to } } }`)} }`;
    expect((await s.gql(page(16, "$n"), { n: 100 })).errors).toBeUndefined();
    expect(errorOf(await s.gql(page(17, "$n"), { n: 1 }))).toMatchObject({ code: "QUERY_TOO_COMPLEX", message: expect.stringMatching(/costs 5100/) });
    expect(errorOf(await s.gql(page(17, "100"), {}))).toMatchObject({ code: "QUERY_TOO_COMPLEX", message: expect.stringMatching(/costs 5100/) });
    expect((await s.gql(page(17, "10"), {})).errors).toBeUndefined(); // 17 × (100 + 10 × 2) = 2040
  });

  it("fragments count where they are spread, and a fan-out of fragments is refused quickly, not explored 2^25 times", async () => {
    const frags = Array.from({ length: 25 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join("\n");
    const doc = `{ ...F0 }\n${frags}\nfragment F25 on Query { fraudStats(${RANGE}) { totals { attempts } } }`;
    const started = performance.now();
    const r = await s.gql(doc);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(errorOf(r)).toMatchObject({ code: "QUERY_TOO_COMPLEX", errorCode: 20400 });
  });

  it("a fragment cycle is a plain validation error (60200), not a stack overflow", async () => {
    const r = await s.gql(`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`);
    expect(errorOf(r)).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
  });

  it("GraphiQL's introspection query is allowed", async () => {
    const r = ok(await s.gql<{ __schema: { queryType: { name: string } } }>(getIntrospectionQuery()));
    expect(r.__schema.queryType.name).toBe("Query");
  });

  it("over WebSocket the same limit answers an `error` message with QUERY_TOO_COMPLEX, and the socket stays open", async () => {
    const c = wsClient(s, ADMIN_KEY);
    clients.push(c);
    const refused = record(c, `{ ${aliases(5, () => `fraudStats(${RANGE}) { totals { attempts } topBlockedCountries { blocked } }`)} }`, {});
    const { error } = await refused.ended;
    expect(error).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", errorCode: 20400 }, message: expect.stringMatching(/costs 7505/) })]);
    const fine = record<{ fraudStats: { totals: { attempts: number } } }>(c, `{ fraudStats(${RANGE}) { totals { attempts } } }`, {});
    expect((await fine.waitFor(1))[0]!.data!.fraudStats.totals.attempts).toBe(0);
  });
});

describe("query depth limit (GRAPHQL_MAX_DEPTH=4)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { GRAPHQL_MAX_DEPTH: "4" } });
  });
  afterAll(async () => s?.close());

  it("allows four levels and refuses five with 20400", async () => {
    expect((await s.gql(`{ verificationAttempts(first: 1) { edges { node { id } } } }`)).errors).toBeUndefined();
    const r = await s.gql(`{ verificationAttempts(first: 1) { edges { node { tags { key } } } } }`);
    expect(errorOf(r)).toMatchObject({ code: "QUERY_TOO_COMPLEX", errorCode: 20400, message: expect.stringMatching(/nested 5 levels deep; at most 4/) });
  });
});
