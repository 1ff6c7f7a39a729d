import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng, seedDecisions } from "../bench/stats/seed.js";
import { DAY_MS, HOUR_MS, planSegments, type AggregateQuery, type StatsDimension } from "../src/store/stats.js";
import { SqlStatsStore } from "../src/store/queries/stats.js";
import { SqlStore } from "../src/store/queries/store.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";
import { expectedAggregate, type DecisionDb } from "./helpers/stats-oracle.js";

/**
 * The roll-ups (kept by SQLite triggers) against the log they summarise, on 20,000 seeded decisions
 * over ten days: for random ranges and groupings the store's answer must equal a plain recount of
 * the raw rows, including conversions recorded after the fact (the update trigger).
 */

const UNTIL = Date.UTC(2026, 0, 11, 7, 23, 11, 5);
const DAYS = 10;

describe("decision roll-ups", () => {
  let dir: string;
  let db: SqliteDb;
  let store: SqlStore;
  let stats: SqlStatsStore;
  let rows: DecisionDb[];
  let serviceIds: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vg-rollups-"));
    db = new SqliteDb(join(dir, "verify.db"));
    store = new SqlStore(db);
    stats = new SqlStatsStore(db);
    ({ serviceIds } = await seedDecisions(db, 20_000, { until: UNTIL, days: DAYS, seed: 7 }));
    // Conversions after the fact, as checks record them: the update trigger must move the counters.
    const pending = db.sqlite
      .prepare("select verification_id from risk_decisions where kind = 'START' and outcome = 'ALLOWED' and converted = 0 and verification_id is not null")
      .all() as { verification_id: string }[];
    for (const { verification_id } of pending.filter((_, i) => i % 7 === 0)) await store.markConverted(verification_id);
    await store.markConverted(pending[0]!.verification_id); // twice: counted once
    rows = db.sqlite.prepare("select * from risk_decisions").all() as DecisionDb[];
  });
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const groupings: StatsDimension[][] = [[], ["COUNTRY"], ["PREFIX"], ["STAGE", "ERROR_CODE"], ["CHANNEL", "HOUR"], ["DAY", "COUNTRY"], ["PREFIX", "DAY", "CHANNEL"]];
  const rand = prng(2026);
  const cases = Array.from({ length: 40 }, (_, i) => {
    const from = UNTIL - Math.floor(rand() * (DAYS + 1) * DAY_MS);
    const until = from + 1 + Math.floor(rand() * (UNTIL + DAY_MS - from));
    const groupBy = groupings[i % groupings.length]!;
    return [i, new Date(from).toISOString(), new Date(until).toISOString(), groupBy.join("+") || "nothing", { from, until, groupBy }] as const;
  });

  it.each(cases)("case %i: %s to %s by %s equals a recount of the raw rows", async (_i, _f, _u, _g, c) => {
    for (const q of [
      { serviceId: serviceIds[0]!, ...c },
      { serviceId: null, ...c },
      { serviceId: serviceIds[1]!, country: "US", ...c },
      { serviceId: null, blockedOnly: true, ...c },
    ] satisfies AggregateQuery[]) {
      const got = await stats.aggregate(q);
      const want = expectedAggregate(rows, q).map(({ savedMicros: _s, ...g }) => g);
      // No group = one row of zeros when nothing matched.
      const expected = q.groupBy.length === 0 && want.length === 0 ? [{ country: null, prefix: null, stage: null, errorCode: null, channel: null, hour: null, day: null, decisions: 0, allowed: 0, blocked: 0, sends: 0, checks: 0, prevented: 0, converted: 0, approvals: 0, shadowed: 0 }] : want;
      expect(sorted(got)).toEqual(sorted(expected));
    }
  });

  it("the whole history adds up to the log's own totals", async () => {
    const [all] = await stats.aggregate({ serviceId: null, from: 0, until: Number.MAX_SAFE_INTEGER, groupBy: [] });
    expect(all!.decisions).toBe(20_000);
    expect(all!.converted).toBe(rows.filter((r) => r.converted === 1).length);
    expect(all!.approvals).toBe(new Set(rows.filter((r) => r.converted === 1).map((r) => r.verification_id)).size);
  });
});

describe("planSegments", () => {
  const rand = prng(99);
  const cases = Array.from({ length: 200 }, () => {
    const from = Math.floor(rand() * 40 * DAY_MS);
    return { from, until: from + 1 + Math.floor(rand() * (rand() < 0.5 ? 3 * HOUR_MS : 20 * DAY_MS)) };
  });

  it.each([[[]], [["HOUR"]], [["PREFIX"]], [["DAY", "COUNTRY"]]] as StatsDimension[][][])(
    "covers every range exactly once, reading the log only for partial buckets at the ends (groupBy %j)",
    (groupBy) => {
      const unit = groupBy.includes("PREFIX") ? DAY_MS : HOUR_MS;
      for (const { from, until } of cases) {
        const segs = planSegments({ from, until, groupBy });
        expect(segs[0]!.from).toBe(from);
        expect(segs.at(-1)!.until).toBe(until);
        for (let i = 1; i < segs.length; i++) expect(segs[i]!.from).toBe(segs[i - 1]!.until);
        for (const s of segs) {
          expect(s.from).toBeLessThan(s.until);
          if (s.source === "HOUR") expect([s.from % HOUR_MS, s.until % HOUR_MS]).toEqual([0, 0]);
          if (s.source === "DAY" || s.source === "PREFIX_DAY") expect([s.from % DAY_MS, s.until % DAY_MS]).toEqual([0, 0]);
        }
        // The log is read only for what no whole bucket covers: less than one bucket at each end.
        const logged = segs.filter((s) => s.source === "LOG");
        expect(logged.length).toBeLessThanOrEqual(2);
        expect(logged.reduce((n, s) => n + s.until - s.from, 0)).toBeLessThan(2 * unit);
        for (const s of logged) expect(s.from === from || s.until === until).toBe(true);
        if (groupBy.includes("HOUR")) expect(segs.some((s) => s.source === "DAY")).toBe(false);
        if (groupBy.includes("PREFIX")) expect(segs.every((s) => s.source === "PREFIX_DAY" || s.source === "LOG")).toBe(true);
      }
    },
  );
});

function sorted<T extends object>(list: T[]): T[] {
  const key = (r: T) => JSON.stringify(Object.entries(r).slice(0, 7));
  return [...list].sort((a, b) => key(a).localeCompare(key(b)));
}
