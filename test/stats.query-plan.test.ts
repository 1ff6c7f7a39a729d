import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDecisions } from "../bench/stats/seed.js";
import type { DecisionFilter, StatsDimension } from "../src/store/stats.js";
import { SqlStatsStore } from "../src/store/queries/stats.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";

/**
 * SQLite's EXPLAIN QUERY PLAN for every statistics query shape: each read of the log or a roll-up is
 * an index SEARCH (never a SCAN of a table), and the log's pages come out of the index in order (no
 * sort). The timings on a million rows are in `npm run bench`; this is why they stay flat.
 */

const UNTIL = Date.UTC(2026, 0, 31, 13, 17);
const TABLES = /risk_decisions|risk_rollups|risk_prefix_rollups/;

describe("query plans of the statistics queries", () => {
  let dir: string;
  let store: SqliteDb;
  let stats: SqlStatsStore;
  let serviceId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vg-plans-"));
    store = new SqliteDb(join(dir, "verify.db"));
    stats = new SqlStatsStore(store);
    serviceId = (await seedDecisions(store, 5_000, { until: UNTIL, days: 30 })).serviceIds[0]!;
  });
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const from = UNTIL - 7 * 86_400_000 - 123_457; // partial hours at both ends, whole hours, whole days
  const groupings: StatsDimension[][] = [[], ["COUNTRY"], ["PREFIX"], ["STAGE", "ERROR_CODE"], ["HOUR"], ["DAY", "CHANNEL"]];

  it.each(groupings.flatMap((g) => [true, false].flatMap((service) => [false, true].map((blockedOnly) => [g.join("+") || "nothing", service, blockedOnly, g] as const))))(
    "aggregate by %s (one service: %s, blocked only: %s) searches indexes only",
    async (_l, service, blockedOnly, groupBy) => {
      const plan = await stats.explainAggregate({ serviceId: service ? serviceId : null, from, until: UNTIL, groupBy: [...groupBy], blockedOnly, country: null });
      const reads = plan.filter((l) => TABLES.test(l));
      expect(reads.length).toBeGreaterThan(0);
      for (const line of reads) expect(line).toMatch(/^SEARCH \S+ USING (PRIMARY KEY|(COVERING )?INDEX)\b/);
    },
  );

  const cursor = { createdAt: UNTIL - 86_400_000, id: "VD" + "f".repeat(32) };
  // Functions: the service id exists only once beforeAll has seeded.
  const filters: [string, (serviceId: string) => DecisionFilter][] = [
    ["a service", (serviceId) => ({ serviceId })],
    ["a number", () => ({ to: "+14155550101" })],
    ["a service and a number", (serviceId) => ({ serviceId, to: "+14155550101" })],
    ["a service's blocked decisions", (serviceId) => ({ serviceId, outcome: "BLOCKED" })],
    ["a service and a country", (serviceId) => ({ serviceId, country: "UZ" })],
    ["a stage", () => ({ stage: "geo" })],
    ["an error code", () => ({ errorCode: 60410 })],
    ["a service and a stage", (serviceId) => ({ serviceId, stage: "prefix-guard" })],
    ["a service and a time range", (serviceId) => ({ serviceId, from: UNTIL - 86_400_000, until: UNTIL })],
    ["a time range", () => ({ from: UNTIL - 86_400_000, until: UNTIL })],
    ["a service's sends (the REST API's Attempts)", (serviceId) => ({ serviceId, kind: "START", outcome: "ALLOWED" })],
    ["a service's converted sends", (serviceId) => ({ serviceId, kind: "START", outcome: "ALLOWED", converted: true })],
  ];
  it.each(filters)("a page of the log filtered by %s is one index range, in order, first page and next", async (_l, filter) => {
    for (const after of [null, cursor]) {
      const plan = await stats.explainList(filter(serviceId), after);
      expect(plan).toHaveLength(1);
      expect(plan[0]).toMatch(/^SEARCH risk_decisions USING INDEX /);
      expect(plan.join("\n")).not.toMatch(/TEMP B-TREE/);
    }
  });

  it("without a service, a country or outcome filter walks the time index newest first and stops at the page size", async () => {
    // Documented trade-off: these filters have service-scoped indexes only, so across services the
    // page is read off the (created_at, id) index in order, skipping non-matching rows, never sorted.
    const plan = await stats.explainList({ country: "UZ", outcome: "BLOCKED" }, null);
    expect(plan).toEqual(["SCAN risk_decisions USING INDEX risk_decisions_created_idx"]);
  });
});
