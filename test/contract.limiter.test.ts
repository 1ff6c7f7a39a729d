import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { SlidingWindowLimiter, type LimitSpec } from "../src/risk/limiter.js";
import type { Database } from "../src/store/open.js";
import { atOnce, counterBackends, inTheCommit, type Limits, type OpenedCounters } from "./helpers/counter-backends.js";

/**
 * The limiter contract: a sliding-window limit gives the same answers whichever backend keeps its
 * counters (memory and Redis through rate-limiter-flexible, consumed at once; SQLite and PostgreSQL
 * read with the request and taken in its commit). Race tests go through a second handle on the same
 * counters, as a second instance would; windows move with a ManualClock.
 */
describe.each(counterBackends())("Limiter contract on $name counters", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "with a sliding window", () => {
    let opened: OpenedCounters;
    let second: Limits;
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const spec: LimitSpec = { max: 5, windowMs: 600_000 };
    let n = 0;
    /** A key no other test touches. */
    const key = (what: string) => `test::${what}::${++n}`;

    const limitsOf = (o: OpenedCounters, handle?: unknown): Limits =>
      o.kind === "at once" ? atOnce(new SlidingWindowLimiter((handle as typeof o.counters | undefined) ?? o.counters, clock)) : inTheCommit((handle as Database | undefined) ?? o.database, clock);

    beforeAll(async () => {
      opened = await backend.open();
      second = limitsOf(opened, await opened.another());
    });
    afterAll(async () => opened?.close());

    const limiter = () => limitsOf(opened);
    const consume = (l: Limits, k: string, points: number, s: LimitSpec) => l.consumeAll([{ key: k, points, spec: s }]);

    it("allows max requests in a window, then refuses with a retry time, and a refusal costs nothing", async () => {
      const k = key("basic");
      const l = limiter();
      const results = [];
      for (let i = 0; i < 7; i++) results.push(await consume(l, k, 1, spec));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false, false]);
      const refused = results[5]!;
      if (refused.allowed) throw new Error("unreachable");
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * spec.windowMs);
      expect(results[6]!.used).toBe(5);
    });

    it("lets exactly max of many concurrent requests from two instances through", async () => {
      const k = key("race");
      const a = limiter();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => consume(i % 2 ? second : a, k, 1, spec)));
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
      expect((await consume(a, k, 1, spec)).allowed).toBe(false);
    });

    it("weighs the previous window by how much of it still overlaps the sliding window", async () => {
      const k = key("slide");
      const l = limiter();
      clock.set(Date.UTC(2026, 0, 2)); // a window boundary (multiple of 10 minutes)
      for (let i = 0; i < 5; i++) expect((await consume(l, k, 1, spec)).allowed).toBe(true);
      clock.advance(spec.windowMs); // next window: the previous one still weighs fully
      expect((await consume(l, k, 1, spec)).allowed).toBe(false);
      clock.advance(spec.windowMs / 2); // half of it has slid out: 5 × 0.5 = 2.5 used
      const r = await consume(l, k, 1, spec);
      expect(r).toMatchObject({ allowed: true, used: 3.5 });
      expect((await consume(l, k, 2, spec)).allowed).toBe(false); // 5.5 > 5
      clock.advance(spec.windowMs); // two windows on: only the half-window's one request remains, weighted
      expect((await consume(l, k, 1, spec)).allowed).toBe(true);
    });

    it("lets a request that turns out not to count cost nothing, while still testing it against the limit", async () => {
      const l = limiter();
      const k = key("not-counted");
      // Given back at once (Redis, memory) or tested without being taken (the database's commit).
      for (let i = 0; i < 10; i++) expect((await l.consumeAll([{ key: k, spec }], { notCounted: true })).allowed).toBe(true);
      for (let i = 0; i < 5; i++) expect((await consume(l, k, 1, spec)).allowed).toBe(true);
      expect((await l.consumeAll([{ key: k, spec }], { notCounted: true })).allowed).toBe(false);
      expect((await consume(l, k, 1, spec)).allowed).toBe(false);
    });

    it("keeps keys apart", async () => {
      const l = limiter();
      const [k1, k2] = [key("a"), key("b")];
      for (let i = 0; i < 5; i++) await consume(l, k1, 1, spec);
      expect((await consume(l, k1, 1, spec)).allowed).toBe(false);
      expect((await consume(l, k2, 1, spec)).allowed).toBe(true);
    });

    it("consumes several limits all or nothing", async () => {
      const l = limiter();
      const [wide, narrow] = [key("wide"), key("narrow")];
      const items = [
        { key: wide, spec: { max: 10, windowMs: 600_000 } },
        { key: narrow, spec: { max: 1, windowMs: 600_000 } },
      ];
      expect((await l.consumeAll(items)).allowed).toBe(true);
      expect(await l.consumeAll(items)).toMatchObject({ allowed: false, index: 1 });
      // The refused request's point on the wide limit was given back (or never taken): 9 more fit, not 8.
      for (let i = 0; i < 9; i++) expect((await consume(l, wide, 1, items[0]!.spec)).allowed).toBe(true);
      expect((await consume(l, wide, 1, items[0]!.spec)).allowed).toBe(false);
    });
  });
});
