import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { ipGroup } from "../src/risk/ip-group.js";
import { consumeAll, LimiterUnavailableError, memoryCounters, SlidingWindowLimiter, type Counters } from "../src/risk/limiter.js";
import { numberKeyer } from "../src/risk/number-key.js";
import { limitKeys, limitsStage, type LimitsOptions } from "../src/risk/stages/limits.js";
import type { Decision, RiskContext } from "../src/risk/types.js";
import { limiterCounters } from "../src/store/open.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";
import type { Role, ServiceRow } from "../src/store/types.js";
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

/** A temp SQLite file with the real migrations, for the embedded counters. */
function tempDb() {
  const dir = mkdtempSync(join(tmpdir(), "vg-limits-"));
  const store = new SqliteDb(join(dir, "verify.db"));
  return { store, close: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
}

describe.each([
  ["SQLite counters", "sqlite"],
  ["memory counters", "memory"],
] as const)("SlidingWindowLimiter over %s", (_name, backend) => {
  let clock: ManualClock;
  let db: ReturnType<typeof tempDb> | null;
  let limiter: SlidingWindowLimiter;
  const spec = { max: 5, windowMs: 10 * MIN };

  beforeEach(() => {
    // Start exactly on a window boundary so the arithmetic below is easy to follow.
    clock = new ManualClock(Math.ceil(Date.UTC(2026, 0, 1) / spec.windowMs) * spec.windowMs);
    db = backend === "sqlite" ? tempDb() : null;
    const counters: Counters = db ? limiterCounters(db.store) : memoryCounters();
    limiter = new SlidingWindowLimiter(counters, clock);
  });
  afterEach(() => db?.close());

  it("allows max requests in a window and refuses the next with a retry time", async () => {
    for (let i = 0; i < 5; i++) expect((await limiter.consume("k", 1, spec)).allowed).toBe(true);
    const refused = await limiter.consume("k", 1, spec);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * spec.windowMs);
  });

  it("does not count refused requests, so hammering does not push the window out", async () => {
    for (let i = 0; i < 5; i++) await limiter.consume("k", 1, spec);
    for (let i = 0; i < 50; i++) expect((await limiter.consume("k", 1, spec)).allowed).toBe(false);
    clock.advance(2 * spec.windowMs);
    for (let i = 0; i < 5; i++) expect((await limiter.consume("k", 1, spec)).allowed).toBe(true);
  });

  it("does not let a second burst through just after a window boundary", async () => {
    clock.advance(spec.windowMs - 1_000); // one second before the boundary
    for (let i = 0; i < 5; i++) expect((await limiter.consume("k", 1, spec)).allowed).toBe(true);
    clock.advance(2_000); // one second after it: a fixed window would allow 5 more here
    expect((await limiter.consume("k", 1, spec)).allowed).toBe(false);
  });

  it("lets the request through exactly when retryAfterMs says, not before", async () => {
    clock.advance(spec.windowMs / 2);
    for (let i = 0; i < 5; i++) await limiter.consume("k", 1, spec);
    const refused = await limiter.consume("k", 1, spec);
    expect(refused.allowed).toBe(false);
    clock.advance(refused.retryAfterMs - 1_000);
    expect((await limiter.consume("k", 1, spec)).allowed).toBe(false);
    clock.advance(1_000);
    expect((await limiter.consume("k", 1, spec)).allowed).toBe(true);
  });

  it("keeps keys apart", async () => {
    for (let i = 0; i < 5; i++) await limiter.consume("a", 1, spec);
    expect((await limiter.consume("a", 1, spec)).allowed).toBe(false);
    expect((await limiter.consume("b", 1, spec)).allowed).toBe(true);
  });

  it("lets exactly max of many concurrent requests through", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => limiter.consume("k", 1, spec)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
  });

  it("consumeAll gives back what it took when a later limit refuses", async () => {
    const roomy = { max: 10, windowMs: 10 * MIN };
    const tight = { max: 1, windowMs: 10 * MIN };
    const items = [
      { key: "roomy", spec: roomy },
      { key: "tight", spec: tight },
    ];
    expect(await consumeAll(limiter, items)).toEqual({ allowed: true });
    const refused = await consumeAll(limiter, items);
    expect(refused).toMatchObject({ allowed: false, index: 1 });
    // The refused request's point on "roomy" was given back: 9 more fit, not 8.
    for (let i = 0; i < 9; i++) expect((await limiter.consume("roomy", 1, roomy)).allowed).toBe(true);
    expect((await limiter.consume("roomy", 1, roomy)).allowed).toBe(false);
  });
});

describe("SlidingWindowLimiter when its store fails", () => {
  it("throws LimiterUnavailableError (not a refusal) when the SQLite file is closed", async () => {
    const db = tempDb();
    const limiter = new SlidingWindowLimiter(limiterCounters(db.store), new ManualClock());
    db.close();
    await expect(limiter.consume("k", 1, { max: 5, windowMs: MIN })).rejects.toBeInstanceOf(LimiterUnavailableError);
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

describe("limits stage", () => {
  let clock: ManualClock;
  let db: ReturnType<typeof tempDb>;
  let limiter: SlidingWindowLimiter;
  const numberKey = numberKeyer("limits-test-secret-0123456789abcdef012345");
  const stage = (options: Partial<LimitsOptions> = {}) => limitsStage({ limiter, numberKey, options });

  beforeEach(() => {
    clock = new ManualClock();
    db = tempDb();
    limiter = new SlidingWindowLimiter(limiterCounters(db.store), clock);
  });
  afterEach(() => db.close());

  const run = (s: ReturnType<typeof stage>, c: RiskContext) => s.evaluate(c) as Promise<Decision>;

  it("allows 5 sends to a number in 10 minutes and refuses the 6th with 20429 and a retry time", async () => {
    const s = stage();
    for (let i = 0; i < 5; i++) expect(await run(s, ctx({ ip: `198.51.100.${i}` }))).toEqual({ action: "allow" });
    const d = await run(s, ctx({ ip: "198.51.100.99" }));
    expect(d).toMatchObject({ action: "block", code: "RATE_LIMITED", reason: "starts per number: 5 per 600s" });
    if (d.action !== "block") throw new Error("unreachable");
    expect(d.retryAfterSeconds).toBeGreaterThan(0);
    expect(d.retryAfterSeconds).toBeLessThanOrEqual(1200);
    clock.advance(20 * MIN);
    expect(await run(s, ctx({ ip: "198.51.100.99" }))).toEqual({ action: "allow" });
  });

  it("counts a number per service: another service has its own budget", async () => {
    const s = stage();
    for (let i = 0; i < 5; i++) await run(s, ctx({ ip: null }));
    expect((await run(s, ctx({ ip: null }))).action).toBe("block");
    const other = { ...service(), id: "VA00000000000000000000000000000002" };
    expect(await run(s, ctx({ ip: null, svc: other }))).toEqual({ action: "allow" });
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
        const c = check("198.51.100.7");
        expect((await run(s, c)).action).toBe("allow");
        await s.giveBack!(c);
        await s.giveBack!(c); // at most once per check, however often it is called
      }
      expect((await run(s, check("198.51.100.7"))).action).toBe("allow");
      expect((await run(s, check("198.51.100.7"))).action).toBe("allow");
      expect((await run(s, check("198.51.100.7"))).action).toBe("block");
    });

    it("keeps the per-IP check limit (any number) as it was: it is not given back", async () => {
      const s = stage({ checksPerIp: { max: 2, windowMs: MIN } });
      for (let i = 0; i < 2; i++) {
        const c = ctx({ kind: "CHECK", to: gbMobile(i) });
        expect((await run(s, c)).action).toBe("allow");
        await s.giveBack!(c);
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

  describe("when the limiter store fails", () => {
    it("refuses with 20503 by default (fail closed)", async () => {
      const s = stage();
      db.store.sqlite.close();
      expect(await run(s, ctx())).toMatchObject({ action: "block", code: "SERVICE_UNAVAILABLE", retryAfterSeconds: 5 });
    });

    it("lets the request through when configured to fail open", async () => {
      const s = stage({ failureMode: "open" });
      db.store.sqlite.close();
      expect(await run(s, ctx())).toEqual({ action: "allow" });
    });
  });
});
