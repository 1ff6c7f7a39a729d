import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDecisions } from "../bench/stats/seed.js";
import { DAY_MS, HOUR_MS, type AggregateQuery, type AggregateRow, type StatsDimension } from "../src/store/stats.js";
import type { Store } from "../src/store/types.js";
import { expectedAggregate, type DecisionDb } from "./helpers/stats-oracle.js";
import { storeBackends, type OpenedBackend } from "./helpers/store-backends.js";
import { decisionRow } from "./helpers/store-fixtures.js";

const UNTIL = Date.UTC(2026, 0, 5, 7, 23, 11, 5);
const DAYS = 4;
const ROWS = 1_500;

/** The raw log, in the oracle's shape (PostgreSQL returns bigint as text and booleans as booleans). */
async function readLog(b: OpenedBackend): Promise<DecisionDb[]> {
  const rows = await b.query<Record<string, unknown>>("select * from risk_decisions", []);
  return rows.map((r) => ({ ...r, created_at: Number(r.created_at), converted: r.converted === true || r.converted === 1 ? 1 : 0 }) as unknown as DecisionDb);
}

const sorted = (rows: object[]) => rows.map((r) => JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)))).sort();
const ZERO: AggregateRow = { country: null, prefix: null, stage: null, errorCode: null, channel: null, hour: null, day: null, decisions: 0, allowed: 0, blocked: 0, sends: 0, checks: 0, prevented: 0, converted: 0, approvals: 0, shadowed: 0 };

/**
 * The statistics store (store/stats.ts) on SQLite and PostgreSQL: roll-ups kept by each database's
 * triggers must add up to a plain recount of the log (test/helpers/stats-oracle.ts), for ranges that
 * cut buckets anywhere, every grouping, and conversions recorded after the fact.
 */
describe.each(storeBackends())("Stats store contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "over a seeded decision log", () => {
    let b: OpenedBackend;
    let store: Store;
    let log: DecisionDb[];
    let serviceIds: string[];

    beforeAll(async () => {
      b = await backend.open();
      store = b.db.store;
      ({ serviceIds } = await seedDecisions(b.db.db, ROWS, { until: UNTIL, days: DAYS, seed: 11 }));
      // Conversions after the fact, from two handles at once (the update triggers move the counters).
      const other = (await b.another()).store;
      const pending = (await readLog(b)).filter((r) => r.kind === "START" && r.outcome === "ALLOWED" && !r.converted && r.verification_id);
      const chosen = [...new Set(pending.filter((_, i) => i % 5 === 0).map((r) => r.verification_id!))];
      await Promise.all(chosen.map((id, i) => (i % 2 ? other : store).markConverted(id)));
      await store.markConverted(chosen[0]!); // twice: counted once
      log = await readLog(b);
    }, 120_000);
    afterAll(async () => b?.close());

    const groupings: StatsDimension[][] = [[], ["COUNTRY"], ["PREFIX"], ["STAGE", "ERROR_CODE"], ["CHANNEL", "HOUR"], ["DAY", "COUNTRY"], ["PREFIX", "DAY", "CHANNEL"]];
    const ranges: [string, number, number][] = [
      ["everything", 0, Number.MAX_SAFE_INTEGER],
      ["mid-hour to mid-hour across days", UNTIL - 3 * DAY_MS - 17 * 60_000, UNTIL - DAY_MS + 5 * 60_000],
      ["whole days", UNTIL - (UNTIL % DAY_MS) - 2 * DAY_MS, UNTIL - (UNTIL % DAY_MS)],
      ["inside one hour", UNTIL - 2 * HOUR_MS + 1, UNTIL - HOUR_MS - 1],
      ["an empty stretch in the future", UNTIL + DAY_MS, UNTIL + 2 * DAY_MS],
    ];

    it.each(ranges)("aggregates %s the same as a recount of the raw rows, for every grouping", async (_name, from, until) => {
      for (const groupBy of groupings) {
        for (const q of [
          { serviceId: serviceIds[0]!, from, until, groupBy },
          { serviceId: null, from, until, groupBy },
          { serviceId: serviceIds[1]!, country: "US", from, until, groupBy },
          { serviceId: null, blockedOnly: true, from, until, groupBy },
        ] satisfies AggregateQuery[]) {
          const got = await b.db.stats.aggregate(q);
          const want = expectedAggregate(log, q).map(({ savedMicros: _s, ...g }) => g);
          expect(sorted(got), JSON.stringify(q)).toEqual(sorted(groupBy.length === 0 && want.length === 0 ? [ZERO] : want));
        }
      }
    });

    it("counts every decision inserted concurrently from two instances into the same buckets", async () => {
      const other = (await b.another()).store;
      const at = UNTIL + 3 * DAY_MS + 1234;
      const sid = "VA" + "c".repeat(32);
      await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? other : store).insertDecision(decisionRow(sid, { createdAt: at + (i % 3), kind: i % 4 ? "START" : "CHECK" }))));
      const [hour] = await b.db.stats.aggregate({ serviceId: sid, from: at - (at % HOUR_MS), until: at - (at % HOUR_MS) + HOUR_MS, groupBy: [] });
      const [day] = await b.db.stats.aggregate({ serviceId: sid, from: at - (at % DAY_MS), until: at - (at % DAY_MS) + DAY_MS, groupBy: ["PREFIX"] });
      expect(hour).toMatchObject({ decisions: 60, sends: 45, checks: 15 });
      expect(day).toMatchObject({ prefix: "+4474", decisions: 60 });
    });

    it("pages the log newest first with a keyset cursor, without gaps or repeats", async () => {
      const sid = serviceIds[0]!;
      const want = log
        .filter((r) => r.service_id === sid && r.outcome === "BLOCKED")
        .sort((x, y) => y.created_at - x.created_at || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0))
        .map((r) => r.id);
      const got: string[] = [];
      for (let after = null as { createdAt: number; id: string } | null; ; ) {
        const page = await b.db.stats.listDecisions({ filter: { serviceId: sid, outcome: "BLOCKED" }, after, limit: 7 });
        got.push(...page.map((r) => r.id));
        if (page.length < 7) break;
        after = { createdAt: page.at(-1)!.createdAt, id: page.at(-1)!.id };
      }
      expect(want.length).toBeGreaterThan(7);
      expect(got).toEqual(want);
    });

    it("filters the log by number, country, stage, error code and time", async () => {
      const sample = log.find((r) => r.outcome === "BLOCKED" && r.error_code !== null && r.country)!;
      const page = await b.db.stats.listDecisions({
        filter: { to: sample.to_number, country: sample.country, stage: sample.stage, errorCode: sample.error_code, from: sample.created_at, until: sample.created_at + 1 },
        after: null,
        limit: 50,
      });
      expect(page.map((r) => r.id)).toContain(sample.id);
      for (const r of page) expect(r).toMatchObject({ to: sample.to_number, country: sample.country, stage: sample.stage, errorCode: sample.error_code, createdAt: sample.created_at });
    });
  });
});
