import Database from "better-sqlite3";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteDb } from "../src/store/sql/sqlite.js";

/**
 * SQLite hands the space the purger frees back to the file system only in incremental auto-vacuum
 * mode: a new file starts in it, an existing file (made before it) is rebuilt once on open, keeping
 * its rows, and `vacuumStep` then returns free pages a few at a time.
 */
describe("SQLite incremental auto-vacuum", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vg-vacuum-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts a new file in incremental mode without rebuilding it", async () => {
    const db = new SqliteDb(join(dir, "new.db"));
    expect(db.rebuiltForIncrementalVacuum).toBe(false);
    expect(db.sqlite.pragma("auto_vacuum", { simple: true })).toBe(2);
    expect(db.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    await db.close();
  });

  it("rebuilds an existing file once, keeping its rows, and hands freed pages back step by step", async () => {
    const file = join(dir, "old.db");
    const old = new Database(file);
    old.pragma("journal_mode = WAL");
    old.exec("create table legacy (id integer primary key, blob blob)");
    old.prepare("insert into legacy (blob) select randomblob(4000) from (with recursive c(i) as (select 1 union all select i + 1 from c where i < 500) select i from c)").run();
    expect(old.pragma("auto_vacuum", { simple: true })).toBe(0);
    old.close();

    const db = new SqliteDb(file);
    expect(db.rebuiltForIncrementalVacuum).toBe(true);
    expect(db.sqlite.pragma("auto_vacuum", { simple: true })).toBe(2);
    expect(db.sqlite.prepare("select count(*) as n from legacy").get()).toEqual({ n: 500 });
    expect((db.sqlite.prepare("select count(*) as n from sqlite_master where name = 'verifications'").get() as { n: number }).n).toBe(1);

    db.sqlite.exec("delete from legacy");
    const free = db.sqlite.pragma("freelist_count", { simple: true }) as number;
    expect(free).toBeGreaterThan(400);
    expect(db.vacuumStep(100)).toBe(100);
    expect(db.sqlite.pragma("freelist_count", { simple: true })).toBe(free - 100);
    while (db.vacuumStep(100) > 0);
    expect(db.sqlite.pragma("freelist_count", { simple: true })).toBe(0);
    db.sqlite.pragma("wal_checkpoint(TRUNCATE)");
    expect(statSync(file).size).toBeLessThan(500 * 4000);
    await db.close();

    const again = new SqliteDb(file);
    expect(again.rebuiltForIncrementalVacuum).toBe(false);
    await again.close();
  });
});
