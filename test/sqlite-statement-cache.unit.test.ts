import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cacheStatements } from "../src/store/sql/statement-cache.js";

describe("the SQLite statement cache", () => {
  let dir: string;
  let sqlite: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vg-stmt-"));
    sqlite = new Database(join(dir, "t.db"));
    sqlite.exec("create table t (id integer primary key, name text)");
    sqlite.prepare("insert into t (name) values (?), (?), (?)").run("a", "b", "c");
    cacheStatements(sqlite, 3);
  });

  afterEach(() => {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hands out the same compiled statement for the same SQL text", () => {
    const first = sqlite.prepare("select name from t where id = ?");
    expect(sqlite.prepare("select name from t where id = ?")).toBe(first);
    expect(sqlite.prepare("select id from t where id = ?")).not.toBe(first);
  });

  it("resets the raw, pluck and expand modes a previous user switched on", () => {
    sqlite.prepare("select id, name from t where id = ?").raw(true);
    expect(sqlite.prepare("select id, name from t where id = ?").get(2)).toEqual({ id: 2, name: "b" });
    sqlite.prepare("select id, name from t where id = ?").pluck(true);
    expect(sqlite.prepare("select id, name from t where id = ?").get(3)).toEqual({ id: 3, name: "c" });
  });

  it("compiles a fresh statement while the cached one is busy iterating", () => {
    const iter = sqlite.prepare("select name from t order by id").iterate() as IterableIterator<{ name: string }>;
    expect(iter.next().value).toEqual({ name: "a" });
    const again = sqlite.prepare("select name from t order by id");
    expect(again.all()).toEqual([{ name: "a" }, { name: "b" }, { name: "c" }]);
    expect([...iter]).toEqual([{ name: "b" }, { name: "c" }]);
  });

  it("keeps at most its capacity, evicting the least recently used", () => {
    const a = sqlite.prepare("select 1");
    const b = sqlite.prepare("select 2");
    sqlite.prepare("select 3");
    expect(sqlite.prepare("select 1")).toBe(a); // touched: now the most recent
    sqlite.prepare("select 4"); // evicts "select 2"
    expect(sqlite.prepare("select 1")).toBe(a);
    expect(sqlite.prepare("select 2")).not.toBe(b);
  });
});
