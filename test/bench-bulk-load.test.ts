import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadWithDeferredRollups } from "../bench/lib/bulk-load.js";
import { seedDecisions } from "../bench/stats/seed.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function freshStore(): SqliteDb {
  const dir = mkdtempSync(join(tmpdir(), "vg-bulk-"));
  dirs.push(dir);
  return new SqliteDb(join(dir, "verify.db"));
}

const dump = (s: SqliteDb, table: string) => s.sqlite.prepare(`select * from ${table} order by 1, 2, 3, 4, 5, 6, 7`).all();
const schemaOf = (s: SqliteDb) => s.sqlite.prepare(`select type, name, sql from sqlite_master where tbl_name = 'risk_decisions' order by name`).all();

describe("the bench's bulk load of seeded decisions", () => {
  it("leaves the same roll-ups, indexes and triggers as inserting row by row through the triggers", async () => {
    const options = { until: Date.UTC(2026, 0, 31, 13, 17), days: 3, seed: 9 };
    const byTrigger = freshStore();
    const bulk = freshStore();
    const schemaBefore = schemaOf(bulk);
    const notes: string[] = [];
    try {
      await seedDecisions(byTrigger, 5000, options);
      await loadWithDeferredRollups(bulk.sqlite, "risk_decisions", () => seedDecisions(bulk, 5000, options), (l) => notes.push(l));
      expect(notes).toEqual([]); // the fast path ran (a fallback says why)
      for (const t of ["risk_rollups", "risk_prefix_rollups"]) {
        const expected = dump(byTrigger, t);
        expect(expected.length).toBeGreaterThan(100);
        expect(dump(bulk, t)).toEqual(expected);
      }
      expect(schemaOf(bulk)).toEqual(schemaBefore);
    } finally {
      await byTrigger.close();
      await bulk.close();
    }
  });

  it("falls back to the row-by-row load when the table already holds rows", async () => {
    const s = freshStore();
    const notes: string[] = [];
    try {
      await seedDecisions(s, 10, { seed: 1 });
      await loadWithDeferredRollups(s.sqlite, "risk_decisions", () => seedDecisions(s, 10, { seed: 2 }), (l) => notes.push(l));
      expect(notes.join()).toMatch(/risk_decisions is not empty/);
      const { n } = s.sqlite.prepare(`select sum(decisions) as n from risk_rollups where span = 'DAY'`).get() as { n: number };
      expect(n).toBe(20);
    } finally {
      await s.close();
    }
  });
});
