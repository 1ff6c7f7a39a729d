import { and, asc, eq, inArray, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import {
  DELIVERY_STATUS_RANK,
  finishedJobColumns,
  type AttemptStatusUpdate,
  type DeliveryJobRow,
  type DeliveryJobStore,
  type JobOutcome,
} from "../delivery.js";
import type { SendAttemptRow } from "../types.js";
import * as schema from "./schema.js";

const { deliveryJobs, sendAttempts } = schema;

/**
 * Delivery jobs on the SQLite file. Every write is one guarded statement, atomic on its own; the
 * builder-made SQL (a guarded UPDATE … WHERE id IN (…) RETURNING for the claim, CASE for the status
 * rank) carries over to PostgreSQL, where the claim's candidate query adds FOR UPDATE SKIP LOCKED.
 */
export class SqliteDeliveryJobs implements DeliveryJobStore {
  constructor(private readonly db: BetterSQLite3Database<typeof schema>) {}

  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<DeliveryJobRow[]> {
    // Candidates first, each by its own index range and LIMIT, so a claim reads O(limit) rows however
    // long the backlog: stale leases (their worker died; the oldest work there is), then pending jobs
    // in run_at order. One OR'd subquery with ORDER BY would scan and sort every due row per claim.
    const stale = this.db
      .select({ id: deliveryJobs.id })
      .from(deliveryJobs)
      .where(and(eq(deliveryJobs.status, "sending"), lte(deliveryJobs.leaseUntil, now)))
      .orderBy(asc(deliveryJobs.leaseUntil))
      .limit(limit)
      .all();
    const pending = this.db
      .select({ id: deliveryJobs.id })
      .from(deliveryJobs)
      .where(and(eq(deliveryJobs.status, "pending"), lte(deliveryJobs.runAt, now)))
      .orderBy(asc(deliveryJobs.runAt))
      .limit(limit - stale.length)
      .all();
    const ids = [...stale, ...pending].map((r) => r.id);
    if (ids.length === 0) return [];
    // The claim gate: `claimable` is tested again on each row as it is updated, so of two workers that
    // picked the same candidates only the first UPDATE takes them; the other's matches nothing (SQLite
    // runs one writer at a time; PostgreSQL re-evaluates the WHERE on the locked row). A claim counts
    // a try, so a job that keeps killing its worker still runs out of attempts.
    return this.db
      .update(deliveryJobs)
      .set({ status: "sending", leaseOwner: owner, leaseUntil: now + leaseMs, attempts: sql`${deliveryJobs.attempts} + 1`, updatedAt: now })
      .where(and(inArray(deliveryJobs.id, ids), claimable(now)))
      .returning()
      .all();
  }

  async finish(id: string, owner: string, outcome: JobOutcome, now: number): Promise<boolean> {
    const r = this.db
      .update(deliveryJobs)
      .set(finishedJobColumns(outcome, now))
      .where(this.ownedBy(id, owner))
      .run();
    return r.changes > 0;
  }

  async reschedule(id: string, owner: string, runAt: number, errorCode: number | null, error: string, now: number): Promise<boolean> {
    const r = this.db
      .update(deliveryJobs)
      .set({ status: "pending", runAt, leaseOwner: null, leaseUntil: null, errorCode, lastError: error, updatedAt: now })
      .where(this.ownedBy(id, owner))
      .run();
    return r.changes > 0;
  }

  async nextDueAt(): Promise<number | null> {
    const r = this.db
      .select({
        at: sql<number | null>`min(case when ${deliveryJobs.status} = 'pending' then ${deliveryJobs.runAt} else ${deliveryJobs.leaseUntil} end)`,
      })
      .from(deliveryJobs)
      .where(or(eq(deliveryJobs.status, "pending"), and(eq(deliveryJobs.status, "sending"), isNotNull(deliveryJobs.leaseUntil))))
      .get();
    return r?.at ?? null;
  }

  async getJob(id: string): Promise<DeliveryJobRow | null> {
    return this.db.select().from(deliveryJobs).where(eq(deliveryJobs.id, id)).get() ?? null;
  }

  async listForVerification(verificationId: string): Promise<DeliveryJobRow[]> {
    return this.db.select().from(deliveryJobs).where(eq(deliveryJobs.verificationId, verificationId)).orderBy(asc(deliveryJobs.createdAt), asc(deliveryJobs.id)).all();
  }

  async recordAttemptStatus(sendAttemptId: string, u: AttemptStatusUpdate): Promise<SendAttemptRow | null> {
    const rank = DELIVERY_STATUS_RANK[u.status] ?? 0;
    // Forward only, in one statement: the status moves when the new rank is higher than the current
    // one's; price and error code fill in whenever given.
    const currentRank = sql`case ${sendAttempts.deliveryStatus} ${sql.join(
      Object.entries(DELIVERY_STATUS_RANK).map(([s, r]) => sql`when ${s} then ${r}`),
      sql` `,
    )} else 0 end`;
    return (
      this.db
        .update(sendAttempts)
        .set({
          deliveryStatus: sql`case when ${rank} > ${currentRank} then ${u.status} else ${sendAttempts.deliveryStatus} end`,
          providerSid: u.providerSid ? sql`coalesce(${sendAttempts.providerSid}, ${u.providerSid})` : undefined,
          price: u.price ?? undefined,
          priceUnit: u.priceUnit ?? undefined,
          errorCode: u.errorCode ?? undefined,
        })
        // An attempt belongs to one provider message: a status for another sid is not recorded on it.
        .where(and(eq(sendAttempts.id, sendAttemptId), u.providerSid ? or(isNull(sendAttempts.providerSid), eq(sendAttempts.providerSid, u.providerSid)) : undefined))
        .returning()
        .get() ?? null
    );
  }

  private ownedBy(id: string, owner: string) {
    return and(eq(deliveryJobs.id, id), eq(deliveryJobs.status, "sending"), eq(deliveryJobs.leaseOwner, owner));
  }
}

/** Due: pending and its time came, or sending under a lease that expired (its worker died). */
function claimable(now: number) {
  return or(
    and(eq(deliveryJobs.status, "pending"), lte(deliveryJobs.runAt, now)),
    and(eq(deliveryJobs.status, "sending"), lte(deliveryJobs.leaseUntil, now)),
  );
}
