import { auditServer, type AuditResult } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startServer, type TestServer } from "./helpers/harness.js";

/**
 * GraphQL over HTTP conformance, as graphql-http's `auditServer` checks it (issue 13): 0 warnings and
 * 0 errors. The audit's requests carry an admin key (an anonymous request is refused before it is
 * read, which the audit would count as a failure of every check). Notices are MAYs and are listed.
 */
describe("graphql-http audit of POST/GET /graphql", () => {
  let s: TestServer;
  let results: AuditResult[];
  beforeAll(async () => {
    s = await startServer();
    const withKey: typeof fetch = (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${ADMIN_KEY}`);
      return fetch(input, { ...init, headers });
    };
    results = await auditServer({ url: s.graphqlUrl, fetchFn: withKey });
  });
  afterAll(async () => s?.close());

  it("ran the audit's checks", () => {
    expect(results.length).toBeGreaterThan(50);
    expect(results.filter((r) => r.status === "ok").length).toBeGreaterThan(50);
  });

  it("reports 0 warnings and 0 errors", () => {
    const bad = results.filter((r) => r.status === "warn" || r.status === "error").map((r) => `${r.status} ${r.id} ${r.name}: ${"reason" in r ? r.reason : ""}`);
    expect(bad).toEqual([]);
  });
});
