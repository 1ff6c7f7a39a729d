import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { rollupTriggerDdl } from "../src/store/rollups.js";
import { pgDialect, sqliteDialect } from "../src/store/sql/dialect.js";

/**
 * The roll-up counting rules live in src/store/rollups.ts; the triggers that apply them live in the
 * migrations, generated from that file (`npm run db:rollups`). This fails when a rule changes without
 * a new generated migration, or when a migration's trigger DDL is edited by hand.
 */
describe.each([
  ["sqlite", sqliteDialect],
  ["pg", pgDialect],
] as const)("roll-up trigger migrations on %s", (folder, dialect) => {
  it("the newest migration that defines the triggers is exactly what the rules generate", () => {
    const dir = new URL(`../drizzle/${folder}/`, import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
    const defining = files.filter((f) => /CREATE (OR REPLACE FUNCTION risk_rollups_after_insert|TRIGGER `risk_rollups_after_insert`)/.test(readFileSync(new URL(f, dir), "utf8")));
    expect(defining.length).toBeGreaterThan(0);
    expect(readFileSync(new URL(defining.at(-1)!, dir), "utf8")).toBe(rollupTriggerDdl(dialect));
  });
});
