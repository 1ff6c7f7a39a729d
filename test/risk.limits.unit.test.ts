import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { ipGroup } from "../src/risk/ip-group.js";
import { LimiterUnavailableError, memoryCounters, SlidingWindowLimiter } from "../src/risk/limiter.js";
import { redisCounters } from "../src/risk/limiter-redis.js";
import { numberKeyer } from "../src/risk/number-key.js";
import { limitKeys, limitsStage, type LimitsOptions } from "../src/risk/stages/limits.js";
import { asNotFailure, type Decision, type RiskContext, type RiskStage } from "../src/risk/types.js";
import { CounterReads } from "../src/risk/window-counter.js";
import { openDatabase, type Database } from "../src/store/open.js";
import { incrementCounters } from "../src/store/queries/window-counter.js";
import { CommitRefused, type Role, type ServiceRow } from "../src/store/types.js";
import { atOnce, inTheCommit, type Limits } from "./helpers/counter-backends.js";
import { stageContext, startRequest } from "./helpers/fraud-fixtures.js";
import { serviceRow } from "./helpers/store-fixtures.js";

const MIN = 60_000;

describe("ipGroup: the unit an address is limited by", () => {
  it.each([
    ["an IPv4 address is its own group", "203.0.113.7", "203.0.113.7"],
    ["an IPv6 address is grouped by its /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2/64"],
    ["a compressed IPv6 address lands in the same group as its long form", "2001:0db8:0001:0002::1", "2001:db8:1:2/64"],
    ["an IPv6 address with :: inside the /64 expands correctly", "2001:db8::1", "2001:db8:0:0/64"],
    ["an IPv4-mapped IPv6 address is limited as the IPv4 address", "::ffff:198.51.100.9", "198.51.100.9"],
    ["a zone id is ignored", "fe80::1%eth0", "fe80:0:0:0/64"],
  ])("%s", (_name, ip, group) => {
    expect(ipGroup(ip)).toBe(group);
  });

  it("puts two hosts of one /64 together and a neighbouring /64 apart", () => {
    expect(ipGroup("2001:db8:1:2::a")).toBe(ipGroup("2001:db8:1:2:ffff::b"));
    expect(ipGroup("2001:db8:1:3::a")).not.toBe(ipGroup("2001:db8:1:2::a"));
  });

  it("returns null for something that is not an address", () => {
    expect(ipGroup("not-an-ip")).toBeNull();
  });
});

/** A temp SQLite file with the real migrations, for the database's counters. */
async function tempDb(): Promise<{ database: Database; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "vg-limits-"));
  const database = await openDatabase({ kind: "sqlite", file: join(dir, "verify.db") });
  return { database, close: async () => (await database.close(), rmSync(dir, { recursive: true, force: true })) };
}

describe.each([
  ["the database's counters (taken in the commit)", "sqlite"],
  ["memory counters (consumed at once)", "memory"],
] as const)("sliding-window limits over %s", (_name, backend) => {
  let clock: ManualClock;
  let db: Awaited<ReturnType<typeof tempDb>> | null;
  let limiter: Limits;
  const spec = { max: 5, windowMs: 10 * MIN };
  const consume = (key: string, points = 1, s = spec) => limiter.consumeAll([{ key, points, spec: s }]);

  beforeEach(async () => {
    // Start exactly on a window boundary so the arithmetic below is easy to follow.
    clock = new ManualClock(Math.ceil(Date.UTC(2026, 0, 1) / spec.windowMs) * spec.windowMs);
    db = backend === "sqlite" ? await tempDb() : null;
    limiter = db ? inTheCommit(db.database, clock) : atOnce(new SlidingWindowLimiter(memoryCounters(), clock));
  });
  afterEach(async () => db?.close());

  it("allows max requests in a window and refuses the next with a retry time", async () => {
    for (let i = 0; i < 5; i++) expect((await consume("k")).allowed).toBe(true);
    const refused = await consume("k");
    if (refused.allowed) throw new Error("the sixth was allowed");
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * spec.windowMs);
  });

  it("does not count refused requests, so hammering does not push the window out", async () => {
    for (let i = 0; i < 5; i++) await consume("k");
    for (let i = 0; i < 50; i++) expect((await consume("k")).allowed).toBe(false);
    clock.advance(2 * spec.windowMs);
    for (let i = 0; i < 5; i++) expect((await consume("k")).allowed).toBe(true);
  });

  it("does not let a second burst through just after a window boundary", async () => {
    clock.advance(spec.windowMs - 1_000); // one second before the boundary
    for (let i = 0; i < 5; i++) expect((await consume("k")).allowed).toBe(true);
    clock.advance(2_000); // one second after it: a fixed window would allow 5 more here
    expect((await consume("k")).allowed).toBe(false);
  });

  it("lets the request through exactly when retryAfterMs says, not before", async () => {
    clock.advance(spec.windowMs / 2);
    for (let i = 0; i < 5; i++) await consume("k");
    const refused = await consume("k");
    if (refused.allowed) throw new Error("the sixth was allowed");
    clock.advance(refused.retryAfterMs - 1_000);
    expect((await consume("k")).allowed).toBe(false);
    clock.advance(1_000);
    expect((await consume("k")).allowed).toBe(true);
  });

  it("keeps keys apart", async () => {
    for (let i = 0; i < 5; i++) await consume("a");
    expect((await consume("a")).allowed).toBe(false);
    expect((await consume("b")).allowed).toBe(true);
  });

  it("lets exactly max of many concurrent requests through", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => consume("k")));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
  });

  it("takes several limits all or nothing: a later limit's refusal leaves the others untouched", async () => {
    const roomy = { max: 10, windowMs: 10 * MIN };
    const tight = { max: 1, windowMs: 10 * MIN };
    const items = [
      { key: "roomy", spec: roomy },
      { key: "tight", spec: tight },
    ];
    expect((await limiter.consumeAll(items)).allowed).toBe(true);
    expect(await limiter.consumeAll(items)).toMatchObject({ allowed: false, index: 1 });
    // The refused request's point on "roomy" was given back (or never taken): 9 more fit, not 8.
    for (let i = 0; i < 9; i++) expect((await consume("roomy", 1, roomy)).allowed).toBe(true);
    expect((await consume("roomy", 1, roomy)).allowed).toBe(false);
  });
});

describe("the database's limit windows", () => {
  it("keep a window's row while it is read: the purger's counter cutoff (here 48 h) leaves a 3-day window's until the next one ends", async () => {
    const db = await tempDb();
    try {
      const long = { max: 2, windowMs: 3 * 24 * 3_600_000 };
      const clock = new ManualClock(Math.ceil(Date.UTC(2026, 0, 1) / long.windowMs) * long.windowMs);
      const l = inTheCommit(db.database, clock);
      const take = () => l.consumeAll([{ key: "long", spec: long }]);
      expect((await take()).allowed).toBe(true);
      expect((await take()).allowed).toBe(true);
      // 3.3 days on: the first window started 79 h ago and still weighs 90 % (1.8 of 2 carried).
      const purge = () => db.database.retention.deleteCountersBefore(clock.now() - 48 * 3_600_000, 10_000);
      clock.advance(1.1 * long.windowMs);
      await purge();
      expect((await take()).allowed).toBe(false);
      clock.advance(long.windowMs); // its weight is gone with the next window: a fresh count
      await purge();
      expect((await take()).allowed).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("refuse a commit that the bound no longer fits, and write nothing of it", async () => {
    const db = await tempDb();
    try {
      const take = (max: number) => db.database.db.transaction(() => incrementCounters(["signal"], 0, [{ key: "vg:k", bucket: 1, add: 1, max }]));
      await take(1);
      await expect(take(1)).rejects.toBeInstanceOf(CommitRefused);
      const reads = await CounterReads.fetch(db.database.windowCounter, [
        { key: "vg:k", from: 1, to: 1 },
        { key: "signal", from: 0, to: 0 },
      ]);
      expect([reads.count("vg:k", 1, 1), reads.count("signal", 0, 0)]).toEqual([1, 1]);
      // A bound tested without taking (add 0): passes while the counter is within it.
      await db.database.db.transaction(() => incrementCounters([], 0, [{ key: "vg:k", bucket: 1, add: 0, max: 1 }]));
      await expect(db.database.db.transaction(() => incrementCounters([], 0, [{ key: "vg:k", bucket: 1, add: 0, max: 0 }]))).rejects.toBeInstanceOf(CommitRefused);
    } finally {
      await db.close();
    }
  });
});

describe("SlidingWindowLimiter when its Redis fails", () => {
  it("throws LimiterUnavailableError (not a refusal)", async () => {
    const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    try {
      const limiter = new SlidingWindowLimiter(redisCounters(redis, "vg-test:"), new ManualClock());
      await expect(limiter.consume("k", 1, { max: 5, windowMs: MIN })).rejects.toBeInstanceOf(LimiterUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});

const service = (riskSettings: ServiceRow["riskSettings"] = {}): ServiceRow => serviceRow({ id: "VA00000000000000000000000000000001", riskSettings, createdAt: 0, updatedAt: 0 });

/** The context the limits stage sees after the phone stage ran. */
function ctx(over: { kind?: "START" | "CHECK"; to?: string; ip?: string | null; role?: Role; svc?: ServiceRow; values?: Record<string, string>; now?: number } = {}): RiskContext {
  const req = startRequest(over.svc ?? service(), over.to ?? "+447400123456", {
    kind: over.kind ?? "START",
    ip: over.ip === undefined ? "203.0.113.7" : over.ip,
    role: over.role ?? "CLIENT",
    rateLimitValues: over.values ?? {},
  });
  return stageContext(req, over.now ?? 0);
}

const gbMobile = (i: number) => `+4474001${String(i).padStart(5, "0")}`;

/**
 * The stage as the pipeline runs it, with its counters where the app keeps them: consumed at once
 * (memory here, Redis in production), or decided from the request's read and taken in its commit (the
 * database's counters; a commit another took first is decided again, as RiskPipeline.decide does).
 * `notAFailure`: the check turned out to be no failed attempt (the lifecycle gives its wrong-guess
 * limits back, or commits them tested and not taken).
 */
interface StageMode {
  limiter(clock: ManualClock): Promise<{ backend: "commit" | SlidingWindowLimiter; decide(s: RiskStage, c: RiskContext, notAFailure?: boolean): Promise<Decision>; close(): Promise<void> }>;
}

const modes: [string, StageMode][] = [
  [
    "in the commit (the database's counters)",
    {
      async limiter() {
        const db = await tempDb();
        return {
          backend: "commit",
          async decide(s, c, notAFailure = false) {
            for (;;) {
              const reads = await CounterReads.fetch(db.database.windowCounter, (await s.reads?.(c)) ?? []);
              const d = await s.evaluate(c, reads);
              const limits = d.action === "allow" ? d.writes?.limits : undefined;
              if (!limits) return d;
              const w = notAFailure ? asNotFailure({ counts: [], limits }) : { counts: [], limits };
              try {
                await db.database.db.transaction(() => incrementCounters([], 0, w.limits));
                return d;
              } catch (err) {
                if (!(err instanceof CommitRefused)) throw err;
              }
            }
          },
          close: db.close,
        };
      },
    },
  ],
  [
    "at once (memory counters)",
    {
      async limiter(clock) {
        return {
          backend: new SlidingWindowLimiter(memoryCounters(), clock),
          async decide(s, c, notAFailure = false) {
            const d = await s.evaluate(c);
            if (notAFailure) {
              await s.giveBack!(c);
              await s.giveBack!(c); // at most once per check, however often it is called
            }
            return d;
          },
          close: async () => undefined,
        };
      },
    },
  ],
];

describe.each(modes)("limits stage, %s", (_name, mode) => {
  let clock: ManualClock;
  let m: Awaited<ReturnType<StageMode["limiter"]>>;
  const numberKey = numberKeyer("limits-test-secret-0123456789abcdef012345");
  const stage = (options: Partial<LimitsOptions> = {}) => limitsStage({ limiter: m.backend, numberKey, options });

  beforeEach(async () => {
    clock = new ManualClock();
    m = await mode.limiter(clock);
  });
  afterEach(async () => m.close());

  /** One request through the stage; its context's time is the clock's. */
  const run = (s: RiskStage, c: RiskContext, notAFailure = false) => m.decide(s, { ...c, now: clock.now() }, notAFailure);
  /** The stage's decision without its writes (the allowed ones carry the limits they take). */
  const verdict = (d: Decision) => (d.action === "allow" ? { action: "allow" } : d);

  it("allows 5 sends to a number in 10 minutes and refuses the 6th with 20429 and a retry time", async () => {
    const s = stage();
    for (let i = 0; i < 5; i++) expect(verdict(await run(s, ctx({ ip: `198.51.100.${i}` })))).toEqual({ action: "allow" });
    const d = await run(s, ctx({ ip: "198.51.100.99" }));
    expect(d).toMatchObject({ action: "block", code: "RATE_LIMITED", reason: "starts per number: 5 per 600s" });
    if (d.action !== "block") throw new Error("unreachable");
    expect(d.retryAfterSeconds).toBeGreaterThan(0);
    expect(d.retryAfterSeconds).toBeLessThanOrEqual(1200);
    clock.advance(20 * MIN);
    expect(verdict(await run(s, ctx({ ip: "198.51.100.99" })))).toEqual({ action: "allow" });
  });

  it("counts a number per service: another service has its own budget", async () => {
    const s = stage();
    for (let i = 0; i < 5; i++) await run(s, ctx({ ip: null }));
    expect((await run(s, ctx({ ip: null }))).action).toBe("block");
    const other = { ...service(), id: "VA00000000000000000000000000000002" };
    expect(verdict(await run(s, ctx({ ip: null, svc: other })))).toEqual({ action: "allow" });
  });

  it("limits starts per client IP across many numbers", async () => {
    const s = stage({ startsPerIp: { max: 3, windowMs: 60 * MIN } });
    for (let i = 0; i < 3; i++) expect((await run(s, ctx({ to: gbMobile(i) }))).action).toBe("allow");
    expect(await run(s, ctx({ to: gbMobile(9) }))).toMatchObject({ action: "block", code: "RATE_LIMITED", reason: "starts per IP: 3 per 3600s" });
  });

  it("limits an IPv6 client by its /64, so rotating the interface id does not help", async () => {
    const s = stage({ startsPerIp: { max: 2, windowMs: 60 * MIN } });
    expect((await run(s, ctx({ to: gbMobile(1), ip: "2001:db8:5:6::1" }))).action).toBe("allow");
    expect((await run(s, ctx({ to: gbMobile(2), ip: "2001:db8:5:6::2" }))).action).toBe("allow");
    expect((await run(s, ctx({ to: gbMobile(3), ip: "2001:db8:5:6:abcd::3" }))).action).toBe("block");
    expect((await run(s, ctx({ to: gbMobile(4), ip: "2001:db8:5:7::1" }))).action).toBe("allow");
  });

  it("does not apply per-IP limits to admin keys (trusted backends) but still limits their numbers", async () => {
    const s = stage({ startsPerIp: { max: 1, windowMs: 60 * MIN } });
    for (let i = 0; i < 4; i++) expect((await run(s, ctx({ to: gbMobile(i), role: "ADMIN" }))).action).toBe("allow");
    for (let i = 0; i < 5; i++) await run(s, ctx({ to: gbMobile(50), role: "ADMIN" }));
    expect((await run(s, ctx({ to: gbMobile(50), role: "ADMIN" }))).action).toBe("block");
  });

  it("takes no per-IP point from a start the per-number limit refuses", async () => {
    const s = stage({ startsPerIp: { max: 7, windowMs: 60 * MIN } });
    for (let i = 0; i < 5; i++) await run(s, ctx());
    for (let i = 0; i < 10; i++) expect((await run(s, ctx())).action).toBe("block"); // per number
    // 5 per-IP points used, not 15: two more numbers fit, the third does not.
    expect((await run(s, ctx({ to: gbMobile(1) }))).action).toBe("allow");
    expect((await run(s, ctx({ to: gbMobile(2) }))).action).toBe("allow");
    expect(await run(s, ctx({ to: gbMobile(3) }))).toMatchObject({ reason: "starts per IP: 7 per 3600s" });
  });

  it("counts checks per number separately from starts", async () => {
    const s = stage({ checksPerNumber: { max: 3, windowMs: 60 * MIN } });
    for (let i = 0; i < 5; i++) await run(s, ctx({ ip: null }));
    for (let i = 0; i < 3; i++) expect((await run(s, ctx({ kind: "CHECK", ip: null }))).action).toBe("allow");
    expect(await run(s, ctx({ kind: "CHECK", ip: null }))).toMatchObject({ action: "block", code: "RATE_LIMITED", reason: "wrong checks per number from one IP group: 3 per 3600s" });
  });

  describe("wrong checks: per (number, IP group), under a per-number ceiling (issue 13, finding 5)", () => {
    const check = (ip: string) => ctx({ kind: "CHECK", ip, role: "CLIENT" });

    it("a stranger who spends the budget from one IP group leaves the owner's group untouched", async () => {
      const s = stage({ checksPerIp: null, checksPerNumber: { max: 3, windowMs: 60 * MIN } });
      for (let i = 0; i < 3; i++) expect((await run(s, check("198.51.100.66"))).action).toBe("allow");
      expect(await run(s, check("198.51.100.66"))).toMatchObject({ action: "block", reason: "wrong checks per number from one IP group: 3 per 3600s" });
      expect((await run(s, check("203.0.113.5"))).action).toBe("allow");
      // An IPv6 attacker cannot rotate addresses inside its /64 for fresh budgets.
      for (let i = 1; i <= 3; i++) expect((await run(s, check(`2001:db8:9:9::${i}`))).action).toBe("allow");
      expect((await run(s, check("2001:db8:9:9::ff"))).action).toBe("block");
    });

    it("the per-number ceiling (default 100 a day) stops a guesser spread over 101 addresses", async () => {
      const s = stage({ checksPerIp: null });
      for (let i = 0; i < 100; i++) expect((await run(s, check(`10.0.${i >> 8}.${i & 255}`))).action, `guess ${i + 1}`).toBe("allow");
      expect(await run(s, check("10.9.9.9"))).toMatchObject({ action: "block", code: "RATE_LIMITED", reason: "wrong checks per number: 100 per 86400s" });
      clock.advance(2 * 24 * 60 * MIN); // the sliding day has passed
      expect((await run(s, check("10.9.9.9"))).action).toBe("allow");
    });

    it("gives back a check that was no wrong guess: only wrong ones use up the budget", async () => {
      const s = stage({ checksPerIp: null, checksPerNumber: { max: 2, windowMs: 60 * MIN }, failedChecksPerNumber: { max: 2, windowMs: 60 * MIN } });
      for (let i = 0; i < 20; i++) {
        expect((await run(s, check("198.51.100.7"), true)).action).toBe("allow");
      }
      expect((await run(s, check("198.51.100.7"))).action).toBe("allow");
      expect((await run(s, check("198.51.100.7"))).action).toBe("allow");
      expect((await run(s, check("198.51.100.7"))).action).toBe("block");
    });

    it("keeps the per-IP check limit (any number) as it was: it is not given back", async () => {
      const s = stage({ checksPerIp: { max: 2, windowMs: MIN } });
      for (let i = 0; i < 2; i++) {
        expect((await run(s, ctx({ kind: "CHECK", to: gbMobile(i) }), true)).action).toBe("allow");
      }
      expect(await run(s, ctx({ kind: "CHECK", to: gbMobile(3) }))).toMatchObject({ reason: "checks per IP: 2 per 60s" });
    });
  });

  it("limits checks per client IP", async () => {
    const s = stage({ checksPerIp: { max: 2, windowMs: MIN } });
    expect((await run(s, ctx({ kind: "CHECK", to: gbMobile(1) }))).action).toBe("allow");
    expect((await run(s, ctx({ kind: "CHECK", to: gbMobile(2) }))).action).toBe("allow");
    expect(await run(s, ctx({ kind: "CHECK", to: gbMobile(3) }))).toMatchObject({ reason: "checks per IP: 2 per 60s" });
    clock.advance(2 * MIN);
    expect((await run(s, ctx({ kind: "CHECK", to: gbMobile(3) }))).action).toBe("allow");
  });

  describe("service rate limits (named buckets)", () => {
    const svc = service({ rateLimits: [{ uniqueName: "end_user_id", buckets: [{ max: 2, intervalSeconds: 60 }, { max: 3, intervalSeconds: 3600 }] }] });

    it("limits each value separately, in every bucket", async () => {
      const s = stage();
      const start = (user: string, i: number) => run(s, ctx({ svc, ip: null, to: gbMobile(i), values: { end_user_id: user } }));
      expect((await start("u-42", 1)).action).toBe("allow");
      expect((await start("u-42", 2)).action).toBe("allow");
      expect(await start("u-42", 3)).toMatchObject({ action: "block", code: "RATE_LIMITED", reason: "rate limit end_user_id: 2 per 60s" });
      expect((await start("u-7", 4)).action).toBe("allow");
      clock.advance(2 * MIN);
      expect((await start("u-42", 5)).action).toBe("allow");
      expect(await start("u-42", 6)).toMatchObject({ reason: "rate limit end_user_id: 3 per 3600s" });
    });

    it("does not apply a bucket to a start that passes no value for it", async () => {
      const s = stage();
      for (let i = 0; i < 4; i++) expect((await run(s, ctx({ svc, ip: null, to: gbMobile(i) }))).action).toBe("allow");
    });

    it("refuses a value for a rate limit the service does not have", async () => {
      const d = await run(stage(), ctx({ svc, values: { device_id: "d-1" } }));
      expect(d).toMatchObject({ action: "block", code: "INVALID_PARAMETER" });
    });

    it("keeps a value containing the key separator from reaching another value's counter", () => {
      const spec = { max: 1, windowMs: MIN };
      expect(limitKeys.bucket("VA1", "end_user_id", "a::1::60000", spec)).not.toContain("a::1");
    });
  });

});

describe("limits stage when the limiter's Redis fails", () => {
  const numberKey = numberKeyer("limits-test-secret-0123456789abcdef012345");
  let redis: Redis;
  beforeEach(() => {
    // Nothing listens on port 1: every command fails at once (no offline queue).
    redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  });
  afterEach(() => redis.disconnect());
  const stage = (options: Partial<LimitsOptions> = {}) =>
    limitsStage({ limiter: new SlidingWindowLimiter(redisCounters(redis, "vg-test:"), new ManualClock()), numberKey, options });

  it("refuses with 20503 by default (fail closed)", async () => {
    expect(await stage().evaluate(ctx())).toMatchObject({ action: "block", code: "SERVICE_UNAVAILABLE", retryAfterSeconds: 5 });
  });

  it("lets the request through when configured to fail open", async () => {
    expect(await stage({ failureMode: "open" }).evaluate(ctx())).toEqual({ action: "allow" });
  });
});
