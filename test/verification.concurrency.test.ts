import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendStatus, createFreshPgDatabase, deleteRedisPrefix, randomRedisPrefix, type FreshPgDatabase } from "./helpers/backends.js";
import {
  CANCEL,
  CHECK,
  START,
  codesSent,
  createCoreService,
  freshMobile,
  latestCode,
  limitsOnlyService,
  queryDb,
  startServer,
  startVerification,
  type GqlResult,
  type TestServer,
} from "./helpers/harness.js";

/**
 * Races, with real concurrent HTTP requests (Promise.all of fetches on separate connections) against
 * one server and one SQLite file. Each status move is one guarded write, so whatever the interleaving:
 * a code approves once, attempts never pass the limit, starts collapse into one row, and nothing
 * brings a final verification back to PENDING. The database rows are read directly afterwards.
 */

type Check = { checkVerification: { id: string; status: string; valid: boolean } };
type Start = { startVerification: { id: string; status: string } };
type Row = { id: string; status: string; check_attempts: number; send_attempts: number };

const errorCodes = (rs: GqlResult<unknown>[]) => rs.filter((r) => r.errors).map((r) => r.errors![0]!.extensions.errorCode);

const { redis, pg } = backendStatus();

/**
 * Three set-ups. Embedded: better-sqlite3 is synchronous, so once a request's resolver runs it reaches
 * its guarded write without yielding to another request; the races resolve at the event loop. With
 * the limiter in Redis, every request waits on the network inside the risk pipeline, between reading
 * the verification and writing it, so the requests truly interleave there and only the guarded
 * writes keep the outcome right (these tests fail if a guard is removed from the store). On
 * PostgreSQL every statement is a round trip: requests interleave between the batched read their
 * limits and budget are decided from and the commit that takes them, which only the commit's bounds
 * keep right.
 */
const setups: { name: string; env(): Promise<Record<string, string>>; skip: boolean }[] = [
  { name: "embedded (SQLite, limits taken in the commit)", env: async () => ({}), skip: false },
  // Skipped only when the probe found no Redis and none was required (backends.global-setup says why).
  { name: `limiter in Redis (${redis.url})`, env: async () => ({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: randomRedisPrefix() }), skip: !redis.available },
  {
    name: "store in PostgreSQL (limits and budget taken in its commits)",
    env: async () => {
      fresh = await createFreshPgDatabase();
      return { DATABASE_URL: fresh.url };
    },
    skip: !pg.available,
  },
];
let fresh: FreshPgDatabase | null = null;

for (const { name, env, skip } of setups) describe.skipIf(skip)(`verification concurrency, ${name}`, () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: await env() });
  });
  afterAll(async () => {
    if (!s) return;
    const prefix = s.app.config.REDIS_URL ? s.app.config.REDIS_KEY_PREFIX : null;
    await s.close();
    if (prefix) {
      const client = new Redis(redis.url);
      await deleteRedisPrefix(client, prefix);
      client.disconnect();
    }
    if (s.app.config.database.kind === "postgres") await fresh?.drop();
  });

  const rowsFor = (to: string) => queryDb<Row>(s, "select id, status, check_attempts, send_attempts from verifications where to_number = ? order by created_at, rowid", to);
  const rowOf = (id: string) => queryDb<Row>(s, "select id, status, check_attempts, send_attempts from verifications where id = ?", id)[0]!;
  const check = (serviceId: string, input: Record<string, unknown>) => s.gql<Check>(CHECK, { input: { serviceId, ...input } });
  const start = (serviceId: string, to: string) => s.gql<Start>(START, { input: { serviceId, to, channel: "SMS" } });

  it.each([2, 10])("approves exactly once when %i correct checks arrive at the same time (the others answer 20404)", async (n) => {
    const serviceId = await createCoreService(s, { friendlyName: "Race" });
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);

    // Half name the verification by number, half by id: both roads meet at the same guarded write.
    const results = await Promise.all(Array.from({ length: n }, (_, i) => check(serviceId, i % 2 ? { verificationId: v.id, code } : { to, code })));

    const approved = results.filter((r) => r.data?.checkVerification.valid === true);
    expect(approved).toHaveLength(1);
    expect(approved[0]!.data!.checkVerification).toEqual({ id: v.id, status: "APPROVED", valid: true });
    expect(errorCodes(results)).toEqual(Array(n - 1).fill(20404));
    expect(rowOf(v.id)).toMatchObject({ status: "APPROVED", check_attempts: 1 });
  });

  it("never counts more wrong checks than the limit when 20 arrive at once, and ends MAX_ATTEMPTS_REACHED", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Guess", maxCheckAttempts: 5 });
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    const wrong = code === "000000" ? "111111" : "000000";

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => check(serviceId, i % 2 ? { verificationId: v.id, code: wrong } : { to, code: wrong })));

    const answered = results.filter((r) => r.data).map((r) => r.data!.checkVerification);
    expect(answered).toHaveLength(5);
    expect(answered.every((c) => c.valid === false)).toBe(true);
    expect(answered.filter((c) => c.status === "MAX_ATTEMPTS_REACHED")).toHaveLength(1);
    expect(errorCodes(results)).toEqual(Array(15).fill(60202));
    expect(rowOf(v.id)).toMatchObject({ status: "MAX_ATTEMPTS_REACHED", check_attempts: 5 });
  });

  it("approves at most once and never passes the limit when one right code races 19 wrong ones", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Mixed", maxCheckAttempts: 5 });
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    const wrong = code === "000000" ? "111111" : "000000";

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => check(serviceId, { to, code: i === 7 ? code : wrong })));

    const row = rowOf(v.id);
    const valid = results.filter((r) => r.data?.checkVerification.valid).length;
    expect(row.check_attempts).toBeLessThanOrEqual(5);
    expect(["APPROVED", "MAX_ATTEMPTS_REACHED"]).toContain(row.status);
    expect(valid).toBe(row.status === "APPROVED" ? 1 : 0);
    expect(results.filter((r) => r.data)).toHaveLength(row.check_attempts);
  });

  it("collapses concurrent starts for the same number into one PENDING verification with one send each", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Burst", maxSendAttempts: 10 });
    const to = freshMobile();

    const results = await Promise.all(Array.from({ length: 8 }, () => start(serviceId, to)));

    const ids = new Set(results.map((r) => r.data?.startVerification.id));
    expect(errorCodes(results)).toEqual([]);
    expect(ids.size).toBe(1);
    const rows = rowsFor(to);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "PENDING", send_attempts: 8 });
    expect(queryDb(s, "select count(*) as n from send_attempts where verification_id = ?", rows[0]!.id)).toEqual([{ n: 8 }]);
    // Every send carried the same code.
    const codes = await codesSent(s, to);
    expect(codes).toHaveLength(8);
    expect(new Set(codes).size).toBe(1);
  });

  it("honours the send cap under concurrent starts: the sixth and later answer 60203 and nothing is counted past it", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Cap", maxSendAttempts: 5 });
    const to = freshMobile();

    const results = await Promise.all(Array.from({ length: 10 }, () => start(serviceId, to)));

    expect(results.filter((r) => r.data)).toHaveLength(5);
    expect(errorCodes(results)).toEqual(Array(5).fill(60203));
    const rows = rowsFor(to);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "PENDING", send_attempts: 5 });
    expect(queryDb(s, "select count(*) as n from send_attempts where verification_id = ?", rows[0]!.id)).toEqual([{ n: 5 }]);
  });

  it("never resurrects an approved verification when resends race the correct checks", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Resurrect", maxSendAttempts: 20 });
    for (let round = 0; round < 5; round++) {
      const to = freshMobile();
      const v = await startVerification(s, { serviceId, to });
      const code = await latestCode(s, to);

      const ops: Promise<GqlResult<unknown>>[] = [];
      for (let i = 0; i < 6; i++) ops.push(i % 2 ? start(serviceId, to) : check(serviceId, { verificationId: v.id, code }));
      const results = await Promise.all(ops);

      const original = rowOf(v.id);
      expect(original.status).toBe("APPROVED");
      expect(results.filter((r) => (r.data as Check | null)?.checkVerification?.valid)).toHaveLength(1);
      // Sends landed on the original only while it was PENDING; later starts made one new verification.
      expect(queryDb(s, "select count(*) as n from send_attempts where verification_id = ?", v.id)).toEqual([{ n: original.send_attempts }]);
      const rows = rowsFor(to);
      expect(rows.filter((r) => r.status === "PENDING").length).toBeLessThanOrEqual(1);
      for (const r of rows.filter((x) => x.id !== v.id)) expect(r.status).toBe("PENDING");
      const startIds = results.map((r) => (r.data as Start | null)?.startVerification?.id).filter(Boolean);
      for (const id of startIds) expect(rows.map((r) => r.id)).toContain(id);
    }
  });

  it("never moves a verification out of MAX_ATTEMPTS_REACHED or CANCELED when resends race wrong checks and cancels", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Final", maxCheckAttempts: 3, maxSendAttempts: 20 });
    const to = freshMobile();
    const spent = await startVerification(s, { serviceId, to });
    await Promise.all([
      ...Array.from({ length: 8 }, () => check(serviceId, { verificationId: spent.id, code: "0000" })),
      ...Array.from({ length: 4 }, () => start(serviceId, to)),
    ]);
    expect(rowOf(spent.id)).toMatchObject({ status: "MAX_ATTEMPTS_REACHED", check_attempts: 3 });

    const other = freshMobile();
    const canceled = await startVerification(s, { serviceId, to: other });
    const raced = await Promise.all([s.gql(CANCEL, { serviceId, id: canceled.id }), start(serviceId, other), start(serviceId, other), s.gql(CANCEL, { serviceId, id: canceled.id })]);
    expect(rowOf(canceled.id).status).toBe("CANCELED");
    const cancels = [raced[0]!, raced[3]!];
    expect(cancels.filter((r) => r.data)).toHaveLength(1);
    expect(errorCodes(cancels)).toEqual([20404]);
    expect(rowsFor(other).filter((r) => r.status === "PENDING").length).toBeLessThanOrEqual(1);
  });

  // The limits and the spend budget are decided from what a request read and taken in its commit,
  // bounded (embedded), or consumed in Redis before it: either way, requests arriving together cannot
  // pass them together (these fail when the commit's bound or the reservation's test is removed).
  it("lets exactly the per-number limit (5 in 10 minutes) through when 12 starts to one number arrive at once", async () => {
    const serviceId = await limitsOnlyService(s, { friendlyName: "Limit race", maxSendAttempts: 10 });
    const to = freshMobile();

    const results = await Promise.all(Array.from({ length: 12 }, () => start(serviceId, to)));

    expect(results.filter((r) => r.data)).toHaveLength(5);
    expect(errorCodes(results)).toEqual(Array(7).fill(20429));
    expect(rowsFor(to)).toMatchObject([{ status: "PENDING", send_attempts: 5 }]);
  });

  it("never spends past the daily budget when starts to 12 numbers arrive at once (60606 for the rest)", async () => {
    const serviceId = await limitsOnlyService(s, { friendlyName: "Budget race" });
    // 25 cents, every destination on it: five sends at the shipped UK price of $0.05.
    await s.app.services.services.updateRiskSettings(serviceId, { dailyBudgetCents: 25, cappedSharePercent: 100 });
    const numbers = Array.from({ length: 12 }, () => freshMobile());

    const results = await Promise.all(numbers.map((to) => start(serviceId, to)));

    expect(results.filter((r) => r.data)).toHaveLength(5);
    expect(errorCodes(results)).toEqual(Array(7).fill(60606));
    expect(queryDb(s, "select usd_micros, sends from spend_daily where service_id = ?", serviceId)).toEqual([{ usd_micros: 250_000, sends: 5 }]);
  });
});
