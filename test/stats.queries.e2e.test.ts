import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import {
  ADMIN_KEY,
  CHECK,
  codesSent,
  createClientKey,
  createService,
  errorOf,
  ok,
  queryDb,
  startServer,
  type TestServer,
} from "./helpers/harness.js";
import { expectedGroups, type DecisionDb, type Prices } from "./helpers/stats-oracle.js";

/**
 * The admin's fraud view over HTTP: fraudStats, verificationAttempts and verificationAttemptsSummary,
 * on decisions made by real starts and checks at chosen times (a manual clock). Expected numbers are
 * written out by hand for the main cases and, for every grouping, recomputed from the raw decision
 * rows (test/helpers/stats-oracle.ts) — the roll-ups must agree with the log they summarise.
 */

const H = 3_600_000;
const DAY1 = Date.UTC(2026, 4, 4); // a Monday, 00:00 UTC
const at = (day: number, hh: number, mm: number) => DAY1 + (day - 1) * 24 * H + hh * H + mm * 60_000;

const GB1 = "+447401000001";
const GB2 = "+447401000002";
const GB3 = "+447401000003";
const US1 = "+14155550101";
const US2 = "+12025550123";
const NG1 = "+2348031234567";
const NG2 = "+2348031234568";
const NG3 = "+2348031234569";
const FR1 = "+33612345678";

/** Prices the test sets (USD per send), so money saved is known exactly. */
const PRICES: Prices = { "NG:SMS": 0.3, "NG:CALL": 0.6, "GB:SMS": 0.04, "US:SMS": 0.01, "US:CALL": 0.02, "FR:SMS": 0.08 };

const ROW = `country prefix stage errorCode channel hour day attempts allowed blocked sends checks converted approvals conversionRatePercentage preventedSends savedUsd shadowBlocked`;
const FRAUD = `query($s: ID, $from: DateTimeISO!, $until: DateTimeISO!, $g: [StatsDimension!]!) {
  fraudStats(serviceId: $s, from: $from, until: $until, groupBy: $g) {
    serviceId from until groupBy groupCount
    totals { ${ROW} } rows(limit: 1000) { ${ROW} }
    topBlockedPrefixes { ${ROW} } topBlockedCountries { ${ROW} }
  } }`;
const ATTEMPTS = `query($f: VerificationAttemptFilter, $first: Int!, $after: String) {
  verificationAttempts(filter: $f, first: $first, after: $after) {
    edges { cursor node { id serviceId verificationId kind outcome stage code errorCode reason shadow to country prefix lineType ip channel tags { key value } converted createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const SUMMARY = `query($s: ID, $from: DateTimeISO, $until: DateTimeISO, $c: String) {
  verificationAttemptsSummary(serviceId: $s, from: $from, until: $until, country: $c) { totalAttempts totalConverted totalUnconverted conversionRatePercentage } }`;

type Row = Record<string, unknown>;
interface Fraud {
  fraudStats: { serviceId: string | null; from: string; until: string; groupBy: string[]; groupCount: number; totals: Row; rows: Row[]; topBlockedPrefixes: Row[]; topBlockedCountries: Row[] };
}
interface Node {
  id: string;
  kind: string;
  outcome: string;
  to: string | null;
  country: string | null;
  converted: boolean;
  createdAt: string;
  [k: string]: unknown;
}
interface Attempts {
  verificationAttempts: { edges: { cursor: string; node: Node }[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null } };
}

describe("admin statistics over HTTP", () => {
  const clock = new ManualClock(at(1, 9, 30));
  let s: TestServer;
  let A: string;
  let B: string;
  let clientKey: string;
  let rows: DecisionDb[];

  const start = (serviceId: string, to: string, channel = "SMS") =>
    s.gql(`mutation($i: StartVerificationInput!) { startVerification(input: $i) { id } }`, { i: { serviceId, to, channel } });
  const check = async (serviceId: string, to: string, right: boolean) => {
    const [code] = await codesSent(s, to);
    return s.gql(CHECK, { input: { serviceId, to, code: right ? code : code === "000000" ? "111111" : "000000" } });
  };
  const fraud = async (vars: Row) => ok(await s.gql<Fraud>(FRAUD, { g: [], ...vars })).fraudStats;
  const iso = (t: number) => new Date(t).toISOString();

  beforeAll(async () => {
    s = await startServer({ clock });
    A = await createService(s, { friendlyName: "Alpha", ttlSeconds: 3600 }); // GB2 is checked 20 minutes (and one midnight) after its send
    B = await createService(s, { friendlyName: "Beta" });
    // Phone, geo and the prefix guard decide; behavioural and volume stages only watch (shadow), so
    // the blocks below are exactly the ones this test makes.
    const shadowStages = s.app.services.lifecycle.riskStages.filter((n) => !["phone", "geo", "prefix-guard"].includes(n));
    for (const id of [A, B]) await s.app.services.services.updateRiskSettings(id, { shadowStages });
    clientKey = (await createClientKey(s, A)).secret;
    for (const [key, usd] of Object.entries(PRICES)) {
      const [country, channel] = key.split(":");
      ok(await s.gql(`mutation($c: String!, $ch: Channel!, $u: Float!) { setPrice(country: $c, channel: $ch, usd: $u) { usd } }`, { c: country, ch: channel, u: usd }));
    }
    ok(await s.gql(`mutation($p: String!, $s: ID, $r: String!) { blockPrefix(prefix: $p, serviceId: $s, reason: $r) { prefix } }`, { p: "+3361", s: A, r: "test" }));

    const steps: [number, () => Promise<unknown>][] = [
      [at(1, 9, 30), async () => (await start(A, GB1), await check(A, GB1, true))],
      [at(1, 9, 45), () => start(A, NG1)], // GEO_BLOCKED (NG is blocked by default)
      [at(1, 10, 20), async () => (await start(A, US1, "CALL"), await start(A, "+4412"))], // a call; an invalid number (60200)
      [at(1, 23, 50), async () => (await start(A, GB2), await start(A, GB2))], // a send and a resend
      [at(2, 0, 10), async () => (await check(A, GB2, false), await check(A, GB2, true))],
      [at(2, 13, 5), async () => (await start(A, FR1), await start(A, NG2, "CALL"))], // PREFIX_BLOCKED; GEO_BLOCKED
      [at(3, 8, 0), async () => (await start(A, US2), await check(A, US2, true), await start(B, GB3))],
      [at(3, 16, 40), () => start(A, NG3)],
    ];
    for (const [t, step] of steps) {
      clock.set(t);
      await step();
    }
    rows = queryDb<DecisionDb>(s, "select * from risk_decisions");
  });
  afterAll(async () => s?.close());

  const RANGE = { from: at(1, 9, 40), until: at(3, 12, 34) }; // partial hours, whole hours and a whole day

  it("the decisions are the ones the test made", () => {
    expect(rows.filter((r) => r.service_id === A)).toHaveLength(14);
    expect(rows.filter((r) => r.service_id === B)).toHaveLength(1);
    expect(rows.filter((r) => r.outcome === "BLOCKED").map((r) => r.code).sort()).toEqual(["GEO_BLOCKED", "GEO_BLOCKED", "GEO_BLOCKED", "INVALID_PARAMETER", "PREFIX_BLOCKED"]);
  });

  describe("fraudStats", () => {
    it("totals of a range: attempts, allowed, blocked, sends, approvals, conversion, prevented sends and the money saved", async () => {
      const f = await fraud({ s: A, from: iso(RANGE.from), until: iso(RANGE.until) });
      expect(f).toMatchObject({ serviceId: A, from: iso(RANGE.from), until: iso(RANGE.until), groupBy: [], groupCount: 1 });
      // In range: NG1 (blocked), US1 call, invalid number (blocked, not a prevented send), GB2 send + resend,
      // two GB2 checks, FR1 and NG2 (blocked), US2 send and check.
      expect(f.totals).toMatchObject({
        attempts: 11, allowed: 7, blocked: 4, sends: 4, checks: 3, converted: 3, approvals: 2,
        conversionRatePercentage: 75, preventedSends: 3,
      });
      expect(f.totals.savedUsd).toBeCloseTo(0.3 + 0.08 + 0.6, 10); // NG SMS + FR SMS + NG CALL
      expect(f.rows).toEqual([f.totals]);
    });

    it("top blocked prefixes and countries, with what their blocks saved", async () => {
      const f = await fraud({ s: A, from: iso(RANGE.from), until: iso(RANGE.until) });
      expect(f.topBlockedPrefixes.map((r) => [r.prefix, r.country, r.blocked, r.preventedSends])).toEqual([
        ["+234803", "NG", 2, 2],
        ["+33612", "FR", 1, 1],
      ]);
      expect(f.topBlockedPrefixes[0]!.savedUsd).toBeCloseTo(0.9, 10);
      expect(f.topBlockedCountries.map((r) => [r.country, r.blocked, r.savedUsd])).toEqual([
        ["NG", 2, 0.9],
        ["FR", 1, 0.08],
      ]);
    });

    it("grouped by country: hand-counted", async () => {
      const f = await fraud({ s: A, from: iso(RANGE.from), until: iso(RANGE.until), g: ["COUNTRY"] });
      const by = Object.fromEntries(f.rows.map((r) => [String(r.country), r]));
      expect(Object.keys(by).sort()).toEqual(["FR", "GB", "NG", "US", "null"]);
      expect(by.GB).toMatchObject({ attempts: 4, sends: 2, checks: 2, converted: 2, approvals: 1, conversionRatePercentage: 100, blocked: 0 });
      expect(by.US).toMatchObject({ attempts: 3, sends: 2, converted: 1, approvals: 1, conversionRatePercentage: 50 });
      expect(by.NG).toMatchObject({ attempts: 2, blocked: 2, sends: 0, preventedSends: 2, conversionRatePercentage: null, savedUsd: 0.9 });
      expect(by.null).toMatchObject({ attempts: 1, blocked: 1, preventedSends: 0, savedUsd: 0 });
    });

    const groupings: string[][] = [[], ["COUNTRY"], ["PREFIX"], ["STAGE", "ERROR_CODE"], ["CHANNEL"], ["HOUR"], ["DAY"], ["DAY", "COUNTRY", "CHANNEL"], ["PREFIX", "DAY"]];
    const ranges: [string, number, number][] = [
      ["a range with partial hours and a whole day", at(1, 9, 40), at(3, 12, 34)],
      ["whole days", at(1, 0, 0), at(4, 0, 0)],
      ["less than an hour", at(1, 9, 31), at(1, 9, 59)],
      ["a range that starts and ends inside one day", at(2, 0, 5), at(2, 23, 59)],
    ];
    it.each(ranges.flatMap(([label, from, until]) => groupings.map((g) => [label, g.join("+") || "nothing", from, until, g] as const)))(
      "%s grouped by %s equals the raw decision log",
      async (_label, _g, from, until, groupBy) => {
        for (const serviceId of [A, null]) {
          const f = await fraud({ s: serviceId, from: iso(from), until: iso(until), g: groupBy });
          const want = expectedGroups(rows, { serviceId, from, until, groupBy: [...groupBy] }, PRICES);
          expect(f.groupCount).toBe(want.length);
          expect(sortRows(f.rows)).toEqual(sortRows(want));
        }
      },
    );

    it.each([
      ["PREFIX with HOUR", { g: ["PREFIX", "HOUR"] }, "groupBy"],
      ["four dimensions", { g: ["COUNTRY", "CHANNEL", "STAGE", "DAY"] }, "groupBy"],
      ["a range of more than 400 days", { until: iso(at(1, 0, 0) + 401 * 24 * H) }, "until"],
      ["hourly rows over more than 31 days", { g: ["HOUR"], until: iso(at(1, 0, 0) + 32 * 24 * H) }, "until"],
      ["from after until", { from: iso(at(2, 0, 0)), until: iso(at(1, 0, 0)) }, "from"],
    ])("refuses %s with 60200", async (_l, vars, field) => {
      const e = errorOf(await s.gql(FRAUD, { s: A, from: iso(at(1, 0, 0)), until: iso(at(2, 0, 0)), g: [], ...vars }));
      expect(e).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
      expect(e.message).toMatch(new RegExp(`^${field}:`));
    });

    it("refuses rows(limit: 0) with 60200 and an unknown service with 20404", async () => {
      const q = `query($s: ID) { fraudStats(serviceId: $s, from: "2026-05-04T00:00:00Z", until: "2026-05-05T00:00:00Z") { rows(limit: 0) { attempts } } }`;
      expect(errorOf(await s.gql(q, { s: A }))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
      expect(errorOf(await s.gql(q, { s: "VA00000000000000000000000000000000" }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
    });
  });

  describe("verificationAttempts", () => {
    const page = async (vars: Row) => ok(await s.gql<Attempts>(ATTEMPTS, { first: 20, ...vars })).verificationAttempts;
    const newestFirst = (list: DecisionDb[]) => [...list].sort((a, b) => b.created_at - a.created_at || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)).map((r) => r.id);

    it("pages through a service's log newest first, three at a time, with opaque cursors and no gaps or repeats", async () => {
      const ids: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const p: Attempts["verificationAttempts"] = await page({ f: { serviceId: A }, first: 3, after });
        ids.push(...p.edges.map((e) => e.node.id));
        expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
        expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
        expect(p.pageInfo.hasPreviousPage).toBe(false);
        for (const e of p.edges) expect(e.cursor).not.toContain(e.node.id); // opaque, not the id
        if (!p.pageInfo.hasNextPage) break;
        after = p.pageInfo.endCursor;
      }
      expect(ids).toEqual(newestFirst(rows.filter((r) => r.service_id === A)));
    });

    const filters: [string, (a: string) => Row, (r: DecisionDb, a: string) => boolean][] = [
      ["a number", () => ({ to: GB2 }), (r) => r.to_number === GB2],
      ["a country (any case)", () => ({ country: "ng" }), (r) => r.country === "NG"],
      ["blocked only", () => ({ outcome: "BLOCKED" }), (r) => r.outcome === "BLOCKED"],
      ["checks only", () => ({ kind: "CHECK" }), (r) => r.kind === "CHECK"],
      ["a stage", () => ({ stage: "geo" }), (r) => r.stage === "geo"],
      ["an error code", () => ({ errorCode: 60410 }), (r) => r.error_code === 60410],
      ["a time range", () => ({ from: iso(at(1, 10, 0)), until: iso(at(2, 13, 5)) }), (r) => r.created_at >= at(1, 10, 0) && r.created_at < at(2, 13, 5)],
      ["a service and a country", (a) => ({ serviceId: a, country: "GB" }), (r, a) => r.service_id === a && r.country === "GB"],
      ["a service, blocked, in a range", (a) => ({ serviceId: a, outcome: "BLOCKED", from: iso(at(2, 0, 0)) }), (r, a) => r.service_id === a && r.outcome === "BLOCKED" && r.created_at >= at(2, 0, 0)],
    ];
    it.each(filters)("filters by %s", async (_l, filter, pred) => {
      const want = newestFirst(rows.filter((r) => pred(r, A)));
      expect(want.length).toBeGreaterThan(0);
      const p = await page({ f: filter(A), first: 100 });
      expect(p.edges.map((e) => e.node.id)).toEqual(want);
      expect(p.pageInfo.hasNextPage).toBe(false);
    });

    it("shows each decision as recorded: blocks with stage, code and reason; converted starts; numbers in E.164", async () => {
      const p = await page({ f: { serviceId: A, to: FR1 } });
      expect(p.edges.map((e) => e.node)).toEqual([
        expect.objectContaining({ kind: "START", outcome: "BLOCKED", stage: "prefix-guard", code: "PREFIX_BLOCKED", errorCode: 60410, to: FR1, country: "FR", prefix: "+33612", channel: "SMS", converted: false, verificationId: null, tags: [], createdAt: new Date(at(2, 13, 5)).toISOString() }),
      ]);
      expect(p.edges[0]!.node.reason).toEqual(expect.any(String));
      const gb2Starts = (await page({ f: { to: GB2, kind: "START" } })).edges.map((e) => e.node);
      expect(gb2Starts.map((n) => [n.outcome, n.converted])).toEqual([
        ["ALLOWED", true],
        ["ALLOWED", true],
      ]);
    });

    it.each([
      ["first: 0", { first: 0 }, "first"],
      ["first: 101", { first: 101 }, "first"],
      ["a cursor it did not make", { after: "bm90LWEtY3Vyc29y" }, "after"],
      ["an invalid number", { f: { to: "+4412" } }, "to"],
      ["a country that is not ISO alpha-2", { f: { country: "Nigeria" } }, "country"],
      ["from after until", { f: { from: "2026-05-05T00:00:00Z", until: "2026-05-04T00:00:00Z" } }, "from"],
    ])("refuses %s with 60200", async (_l, vars, field) => {
      const e = errorOf(await s.gql(ATTEMPTS, { first: 20, ...vars }));
      expect(e).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
      expect(e.message).toMatch(new RegExp(`^${field}:`));
    });
  });

  describe("verificationAttemptsSummary", () => {
    const summary = async (vars: Row) => ok(await s.gql<{ verificationAttemptsSummary: Row }>(SUMMARY, vars)).verificationAttemptsSummary;

    it.each([
      // Service A's sends: GB1, US1, GB2 twice, US2; converted: GB1, GB2 twice, US2. Service B: GB3.
      ["a service, all time", { s: "A" }, [5, 4, 1, 80]],
      ["a service and a country", { s: "A", c: "GB" }, [3, 3, 0, 100]],
      ["a service, US only (any case)", { s: "A", c: "us" }, [2, 1, 1, 50]],
      ["a service from day 2", { s: "A", from: new Date(at(2, 0, 0)).toISOString() }, [1, 1, 0, 100]],
      ["a service before day 2", { s: "A", until: new Date(at(2, 0, 0)).toISOString() }, [4, 3, 1, 75]],
      ["every service", {}, [6, 4, 2, 66.67]],
      ["a country without sends", { s: "A", c: "NG" }, [0, 0, 0, null]],
    ] as const)("%s", async (_l, vars, [total, converted, unconverted, pct]) => {
      const v = { ...vars, ...("s" in vars ? { s: A } : {}) };
      expect(await summary(v)).toEqual({ totalAttempts: total, totalConverted: converted, totalUnconverted: unconverted, conversionRatePercentage: pct });
      // The same from the raw log: attempts are allowed starts.
      const sends = rows.filter(
        (r) =>
          r.kind === "START" && r.outcome === "ALLOWED" && (!("s" in vars) || r.service_id === A) && (!("c" in vars) || r.country === String(vars.c).toUpperCase()) &&
          (!("from" in vars) || r.created_at >= Date.parse(String(vars.from))) && (!("until" in vars) || r.created_at < Date.parse(String(vars.until))),
      );
      expect([sends.length, sends.filter((r) => r.converted).length]).toEqual([total, converted]);
    });

    it("refuses an unknown service (20404) and an empty range (60200)", async () => {
      expect(errorOf(await s.gql(SUMMARY, { s: "VA00000000000000000000000000000000" }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
      expect(errorOf(await s.gql(SUMMARY, { from: "2026-05-05T00:00:00Z", until: "2026-05-05T00:00:00Z" }))).toMatchObject({ code: "INVALID_PARAMETER", errorCode: 60200 });
    });
  });

  describe("roles", () => {
    const queries: [string, string, Row][] = [
      ["fraudStats", FRAUD, { from: "2026-05-04T00:00:00Z", until: "2026-05-05T00:00:00Z", g: [] }],
      ["verificationAttempts", ATTEMPTS, { first: 5 }],
      ["verificationAttemptsSummary", SUMMARY, {}],
    ];
    it.each(queries)("%s: an admin key reads it", async (_n, q, vars) => {
      expect((await s.gql(q, { ...vars, ...(q === FRAUD ? { s: A } : {}) }, ADMIN_KEY)).errors).toBeUndefined();
    });
    it.each(queries)("%s: a client key, even of the service asked about, is refused (20403, or 20400 when the read is beyond a client's cost budget)", async (_n, q, vars) => {
      const r = await s.gql(q, { ...vars, s: A, ...(q === ATTEMPTS ? { f: { serviceId: A } } : {}) }, clientKey);
      expect([
        { code: "FORBIDDEN", errorCode: 20403 },
        { code: "QUERY_TOO_COMPLEX", errorCode: 20400 },
      ]).toContainEqual({ code: errorOf(r).code, errorCode: errorOf(r).errorCode });
      expect(r.data).toBeNull();
    });
    it.each(queries)("%s: no key gets 20401", async (_n, q, vars) => {
      expect(errorOf(await s.gql(q, vars, null))).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
    });
  });

  // Last: it adds a decision, which every count above would see.
  describe("paging while decisions arrive", () => {
    const page = async (vars: Row) => ok(await s.gql<Attempts>(ATTEMPTS, { first: 20, ...vars })).verificationAttempts;
    const newestFirst = (list: DecisionDb[]) => [...list].sort((a, b) => b.created_at - a.created_at || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)).map((r) => r.id);

    it("a decision made between two pages does not shift the next page (keyset, not offset)", async () => {
      const before = newestFirst(rows.filter((r) => r.service_id === A));
      const first = await page({ f: { serviceId: A }, first: 2 });
      clock.set(at(4, 9, 0));
      await start(A, GB1); // a new, newest decision
      const second = await page({ f: { serviceId: A }, first: 2, after: first.pageInfo.endCursor });
      expect([...first.edges, ...second.edges].map((e) => e.node.id)).toEqual(before.slice(0, 4));
    });

  });
});

/** Rows in a stable order for comparison (the API's order is checked where it matters). */
function sortRows(list: Row[]): Row[] {
  const key = (r: Row) => JSON.stringify([r.country, r.prefix, r.stage, r.errorCode, r.channel, r.hour, r.day]);
  return [...list].map((r) => ({ ...r, savedUsd: Math.round((r.savedUsd as number) * 1e6) })).sort((a, b) => key(a).localeCompare(key(b)));
}
