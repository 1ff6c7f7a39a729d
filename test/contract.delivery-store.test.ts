import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSid } from "../src/ids.js";
import type { DeliveryJobRow, DeliveryJobStore } from "../src/store/delivery.js";
import type { SendAttemptRow, Store, VerificationRow } from "../src/store/types.js";
import { storeBackends, type OpenedBackend } from "./helpers/store-backends.js";
import { T0, serviceRow, startInput } from "./helpers/store-fixtures.js";

const jobFor = (v: VerificationRow, a: SendAttemptRow, runAt = T0): DeliveryJobRow => ({
  id: `DJ${newSid("VE").slice(2)}`,
  verificationId: v.id,
  sendAttemptId: a.id,
  channel: a.channel,
  status: "pending",
  locale: null,
  friendlyName: null,
  sealedCode: "sealed",
  attempts: 0,
  runAt,
  leaseOwner: null,
  leaseUntil: null,
  providerSid: null,
  errorCode: null,
  lastError: null,
  requestId: null,
  createdAt: T0,
  updatedAt: T0,
});

/**
 * The transactional outbox (store/delivery.ts, with Store.createOrResend writing the job): same answers
 * on SQLite and PostgreSQL, and two workers on two handles never claim the same job.
 */
describe.each(storeBackends())("Delivery job store contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "on a fresh database", () => {
    let b: OpenedBackend;
    let store: Store;
    let jobs: DeliveryJobStore;
    let otherJobs: DeliveryJobStore;
    beforeAll(async () => {
      b = await backend.open();
      ({ store, delivery: jobs } = b.db);
      otherJobs = (await b.another()).delivery;
    });
    afterAll(async () => b?.close());

    /** A started verification on a fresh service with its job, created through createOrResend. */
    const started = async (runAt = T0, to = "+447400000001") => {
      const s = serviceRow();
      await store.insertService(s);
      const input = startInput(s.id, T0, { to });
      let job: DeliveryJobRow | undefined;
      const r = await store.createOrResend({ ...input, job: (v, a) => (job = jobFor(v, a, runAt)) });
      return { verification: r.verification, job: job! };
    };

    it("writes the job in the start's transaction, and nothing when the builder throws", async () => {
      const { verification, job } = await started();
      expect(await jobs.jobForAttempt(job.sendAttemptId)).toEqual(job);
      // …and that one job is all the verification has.
      expect((await b.query<{ n: number }>("select count(*) as n from delivery_jobs where verification_id = $1", [verification.id])).map((r) => Number(r.n))).toEqual([1]);
      const s = serviceRow();
      await store.insertService(s);
      const input = startInput(s.id, T0);
      await expect(store.createOrResend({ ...input, job: () => { throw new Error("seal failed"); } })).rejects.toThrow("seal failed");
      expect(await store.getVerification(input.fresh.id)).toBeNull();
    });

    it("lets two workers claim due jobs concurrently without ever sharing one", async () => {
      const made = await Promise.all(Array.from({ length: 8 }, (_, i) => started(T0 - 1, `+4474000001${i}`)));
      const [a, c] = await Promise.all([jobs.claimDue("w1", T0, 30_000, 5), otherJobs.claimDue("w2", T0, 30_000, 5)]);
      const ids = [...a, ...c].map((j) => j.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Every job made here was claimed (jobs of earlier tests may be due too and claimed alongside).
      expect(made.map((m) => m.job.id).filter((id) => !ids.includes(id))).toEqual([]);
      for (const j of a) expect(j).toMatchObject({ status: "sending", leaseOwner: "w1", leaseUntil: T0 + 30_000, attempts: 1 });
    });

    it("finishes or reschedules a job only for the worker holding its lease", async () => {
      const { job } = await started(T0 - 50_000, "+447400000201");
      const [claimed] = (await jobs.claimDue("w1", T0 - 40_000, 30_000, 100)).filter((j) => j.id === job.id);
      expect(claimed).toBeDefined();
      expect(await jobs.finish(job.id, "w2", { status: "sent", providerSid: "SM1" }, T0)).toBe(false);
      // The lease ran out (T0 - 10 000): another worker takes the job over, and the first one lost it.
      const retaken = (await otherJobs.claimDue("w2", T0, 30_000, 100)).find((j) => j.id === job.id);
      expect(retaken).toMatchObject({ leaseOwner: "w2", attempts: 2 });
      expect(await jobs.reschedule(job.id, "w1", T0 + 5_000, 20429, "busy", T0)).toBe(false);
      expect(await jobs.reschedule(job.id, "w2", T0 + 5_000, 20429, "busy", T0)).toBe(true);
      expect(await jobs.jobForAttempt(job.sendAttemptId)).toMatchObject({ status: "pending", runAt: T0 + 5_000, errorCode: 20429, lastError: "busy", leaseOwner: null });
      expect((await jobs.claimDue("w1", T0 + 5_000, 30_000, 100)).map((j) => j.id)).toContain(job.id);
      expect(await jobs.finish(job.id, "w1", { status: "sent", providerSid: "SM1" }, T0 + 6_000)).toBe(true);
      expect(await jobs.jobForAttempt(job.sendAttemptId)).toMatchObject({ status: "sent", providerSid: "SM1", sealedCode: null, leaseOwner: null });
    });

    /** Other tests' jobs share the table: settles everything still open. */
    const settleAll = async () => {
      for (let claimed = await jobs.claimDue("sweep", Number.MAX_SAFE_INTEGER, 0, 1000); claimed.length; claimed = await jobs.claimDue("sweep", Number.MAX_SAFE_INTEGER, 0, 1000)) {
        for (const j of claimed) await jobs.finish(j.id, "sweep", { status: "canceled", error: "test" }, T0);
      }
    };

    it("claims jobs whose worker died before pending ones, oldest first, and never more than asked", async () => {
      await settleAll();
      const stale = await started(T0 - 100_000, "+447400000501");
      expect((await jobs.claimDue("dead", T0 - 100_000, 1_000, 1)).map((j) => j.id)).toEqual([stale.job.id]);
      const late = await started(T0 - 10, "+447400000502");
      const early = await started(T0 - 20, "+447400000503");
      await started(T0 - 5, "+447400000504");
      const claimed = await otherJobs.claimDue("w2", T0, 30_000, 3);
      expect(claimed.map((j) => j.id)).toHaveLength(3);
      expect(new Set(claimed.map((j) => j.id))).toEqual(new Set([stale.job.id, early.job.id, late.job.id]));
    });

    it("says when the next job becomes claimable", async () => {
      await settleAll();
      expect(await jobs.nextDueAt()).toBeNull();
      await started(T0 + 70_000, "+447400000301");
      const { job } = await started(T0 + 90_000, "+447400000302");
      expect(await jobs.nextDueAt()).toBe(T0 + 70_000);
      await jobs.claimDue("w1", T0 + 80_000, 5_000, 1);
      expect(await jobs.nextDueAt()).toBe(T0 + 85_000); // the lease's end comes before the other job's runAt
      // The later job stayed pending at its own time: the claim took the earlier one only.
      expect(await jobs.jobForAttempt(job.sendAttemptId)).toMatchObject({ status: "pending", runAt: T0 + 90_000, leaseOwner: null });
    });

    it("moves a send attempt's delivery status forward only, filling in price and SID", async () => {
      const s = serviceRow();
      await store.insertService(s);
      const input = startInput(s.id, T0, { to: "+447400000401" });
      await store.createOrResend(input);
      const id = input.attempt.id;
      expect(await jobs.recordAttemptStatus(id, { status: "sent", providerSid: "SM9" })).toMatchObject({ deliveryStatus: "sent", providerSid: "SM9" });
      expect(await jobs.recordAttemptStatus(id, { status: "delivered", price: "-0.0075", priceUnit: "USD" })).toMatchObject({ deliveryStatus: "delivered", price: "-0.0075" });
      expect(await jobs.recordAttemptStatus(id, { status: "sent", providerSid: "SM9" })).toMatchObject({ deliveryStatus: "delivered", providerSid: "SM9" });
      // A status for another provider message is not this attempt's.
      expect(await jobs.recordAttemptStatus(id, { status: "failed", providerSid: "SM-other" })).toBeNull();
      expect(await jobs.recordAttemptStatus(id, { status: "failed", errorCode: 30003 })).toMatchObject({ deliveryStatus: "delivered", errorCode: 30003 });
      expect(await jobs.recordAttemptStatus("VL" + "0".repeat(32), { status: "sent" })).toBeNull();
    });
  });
});
