import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqlWindowCounter } from "../src/store/queries/window-counter.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe("SQLite window counter (the detectors' embedded counters)", () => {
  let dir: string;
  let file: string;
  let store: SqliteDb;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vg-counter-"));
    file = join(dir, "verify.db");
    store = new SqliteDb(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts events per key within a window", async () => {
    const c = new SqlWindowCounter(store, { bucketMs: 1_000 });
    for (let i = 0; i < 5; i++) await c.incr("a", T0 + i * 1_000);
    await c.incr("b", T0);
    expect(await c.count("a", T0, T0 + 4_000)).toBe(5);
    expect(await c.count("a", T0 + 2_000, T0 + 4_000)).toBe(3);
    expect(await c.count("a", T0 + 5_000, T0 + 9_000)).toBe(0);
    expect(await c.count("b", T0, T0 + 4_000)).toBe(1);
    expect(await c.count("a", T0 + 4_000, T0)).toBe(0);
  });

  it("resolves time to its buckets, counting at most one bucket early", async () => {
    const c = new SqlWindowCounter(store, { bucketMs: 10_000 });
    await c.incr("k", T0 + 1_000);
    await c.incr("k", T0 + 9_000);
    // Both events share the bucket starting at T0, which overlaps [T0 + 5s, …].
    expect(await c.count("k", T0 + 5_000, T0 + 20_000)).toBe(2);
    expect(await c.count("k", T0 + 10_000, T0 + 20_000)).toBe(0);
  });

  it("forgets a key on reset and leaves the others", async () => {
    const c = new SqlWindowCounter(store);
    await c.incr("x", T0);
    await c.incr("y", T0);
    await c.reset("x");
    expect(await c.count("x", T0 - HOUR, T0 + HOUR)).toBe(0);
    expect(await c.count("y", T0 - HOUR, T0 + HOUR)).toBe(1);
  });

  it("sweeps buckets older than its retention as events arrive", async () => {
    const c = new SqlWindowCounter(store, { retentionMs: 2 * HOUR, sweepEveryMs: 0 });
    await c.incr("old", T0);
    await c.incr("new", T0 + 3 * HOUR);
    expect(await c.count("old", 0, T0 + 4 * HOUR)).toBe(0);
    expect(await c.count("new", 0, T0 + 4 * HOUR)).toBe(1);
  });

  it("keeps its counts across a restart (a new process on the same file)", async () => {
    await new SqlWindowCounter(store).incr("attack", T0);
    await store.close();
    store = new SqliteDb(file);
    expect(await new SqlWindowCounter(store).count("attack", T0 - HOUR, T0 + HOUR)).toBe(1);
  });
});
