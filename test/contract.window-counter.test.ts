import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WindowCounter } from "../src/risk/window-counter.js";
import { windowCounterBackends } from "./helpers/counter-backends.js";

const T = Date.UTC(2026, 0, 1); // a bucket boundary (10 s buckets)
const S = 1_000;
const HOUR = 3_600_000;

/**
 * The fraud detectors' window counters (risk/window-counter.ts) give the same counts whichever backend
 * keeps them: SQLite (embedded), PostgreSQL or Redis (scale-out). Times come from the caller (the
 * injected clock), so the tests move time by passing it.
 */
describe.each(windowCounterBackends())("Window counter contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "with 10 s buckets", () => {
    let opened: Awaited<ReturnType<typeof backend.open>>;
    let counter: WindowCounter;
    let other: WindowCounter;
    let n = 0;
    const key = (what: string) => `test:${what}:${++n}`;
    beforeAll(async () => {
      opened = await backend.open();
      counter = opened.counter;
      other = await opened.another();
    });
    afterAll(async () => opened?.close());

    it("counts the events whose buckets overlap the range", async () => {
      const k = key("range");
      for (const t of [T, T + 1 * S, T + 12 * S, T + 35 * S, T + 95 * S]) await counter.incr(k, t);
      expect(await counter.count(k, T, T + 100 * S)).toBe(5);
      expect(await counter.count(k, T + 10 * S, T + 40 * S)).toBe(2);
      // A range starting mid-bucket counts the whole bucket (errs towards counting more).
      expect(await counter.count(k, T + 5 * S, T + 11 * S)).toBe(3);
      expect(await counter.count(k, T + 40 * S, T + 89 * S)).toBe(0);
      expect(await counter.count(k, T + 40 * S, T + 90 * S)).toBe(1); // the bucket of T+95 s starts at T+90 s
      expect(await counter.count(k, T + 100 * S, T)).toBe(0);
    });

    it("keeps keys apart and forgets a key on reset", async () => {
      const [a, b] = [key("a"), key("b")];
      await counter.incr(a, T);
      await counter.incr(a, T);
      await counter.incr(b, T);
      expect([await counter.count(a, T, T), await counter.count(b, T, T)]).toEqual([2, 1]);
      await counter.reset(a);
      expect([await counter.count(a, T, T), await counter.count(b, T, T)]).toEqual([0, 1]);
    });

    it("counts every one of many concurrent increments from two instances", async () => {
      const k = key("race");
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : counter).incr(k, T + (i % 3) * S)));
      expect(await counter.count(k, T, T + 10 * S)).toBe(40);
      expect(await other.count(k, T, T + 10 * S)).toBe(40);
    });

    it("counts a batch of increments as one event per listed key, a repeated key once per listing", async () => {
      const [a, b, c] = [key("batch-a"), key("batch-b"), key("batch-c")];
      await counter.incr(a, T);
      await counter.incrMany([a, b, a, c], T + 12 * S);
      await counter.incrMany([], T + 12 * S);
      expect([await counter.count(a, T, T + 20 * S), await counter.count(b, T, T + 20 * S), await counter.count(c, T, T + 20 * S)]).toEqual([3, 1, 1]);
      // The batch landed in the bucket of its time, not the bucket of the earlier single increment.
      expect([await counter.count(a, T, T + 9 * S), await other.count(a, T + 10 * S, T + 20 * S)]).toEqual([1, 2]);
    });

    it("counts every key of many concurrent overlapping batches from two instances", async () => {
      const [a, b, c] = [key("batch-race-a"), key("batch-race-b"), key("batch-race-c")];
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? other : counter).incrMany(i % 3 ? [a, b, c] : [c, b, a, a], T)));
      expect([await counter.count(a, T, T), await counter.count(b, T, T), await other.count(c, T, T)]).toEqual([40, 30, 30]);
    });

    it("answers a batch of reads in one call exactly as it answers each read alone", async () => {
      const [a, b] = [key("many-a"), key("many-b")];
      await counter.incrMany([a, a, b], T);
      await counter.incrMany([a], T + 25 * S);
      const reads = [
        { key: a, from: T, to: T + 30 * S },
        { key: a, from: T + 20 * S, to: T + 30 * S },
        { key: b, from: T, to: T },
        { key: key("many-none"), from: T, to: T + 30 * S },
        { key: a, from: T + 30 * S, to: T }, // an empty range
        { key: a, from: T, to: T + 30 * S }, // a read asked twice
      ];
      const alone = [];
      for (const r of reads) alone.push(await other.count(r.key, r.from, r.to));
      expect(alone).toEqual([3, 1, 1, 0, 0, 3]);
      expect(await other.countMany(reads)).toEqual(alone);
      expect(await counter.countMany([])).toEqual([]);
    });

    it("drops buckets older than the retention (48 h): as new events arrive (Redis), or by the purger (the database)", async () => {
      const k = key("retention");
      await counter.incr(k, T);
      await counter.incr(k, T + 49 * HOUR);
      await opened.expire?.(T + HOUR);
      expect(await counter.count(k, T, T + 49 * HOUR)).toBe(1);
    });
  });
});
