import { writeFileSync } from "node:fs";
import { rollupTriggerDdl } from "../store/rollups.js";
import { pgDialect, sqliteDialect } from "../store/sql/dialect.js";

/**
 * `npm run db:rollups -- <sqlite migration> <pg migration>`: writes the roll-up trigger DDL generated
 * from src/store/rollups.ts into two (custom, empty) migrations, after a rule changed:
 *   npx drizzle-kit generate --custom --name=rollup_rules --config drizzle.sqlite.config.ts   (and pg)
 *   npm run db:rollups -- drizzle/sqlite/00NN_rollup_rules.sql drizzle/pg/00MM_rollup_rules.sql
 * test/stats.rollup-rules.test.ts fails until the newest trigger migrations match the rules.
 */
const [sqliteFile, pgFile] = process.argv.slice(2);
if (!sqliteFile || !pgFile) throw new Error("usage: npm run db:rollups -- <sqlite migration.sql> <pg migration.sql>");
writeFileSync(sqliteFile, rollupTriggerDdl(sqliteDialect));
writeFileSync(pgFile, rollupTriggerDdl(pgDialect));
process.stdout.write(`roll-up triggers written to ${sqliteFile} and ${pgFile}\n`);
