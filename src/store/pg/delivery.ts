import { and, asc, eq, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import { DELIVERY_STATUS_RANK, finishedJobColumns, type AttemptStatusUpdate, type DeliveryJobRow, type DeliveryJobStore, type JobOutcome } from "../delivery.js";
import type { SendAttemptRow } from "../types.js";
import type { PgDb } from "./connect.js";
import { withCleanErrors } from "./errors.js";
import { deliveryJobs, sendAttemptColumns, sendAttempts } from "./schema.js";

/**
 * Delivery jobs on PostgreSQL, where workers of N instances claim from one table. Each write is one
 * guarded statement, as in the SQLite store; the claim's candidates are locked FOR UPDATE SKIP LOCKED
 * so concurrent workers take disjoint jobs instead of queueing on each other's rows.
 */
export class PgDeliveryJobs implements DeliveryJobStore {
  constructor(private readonly db: PgDb) {}

  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<DeliveryJobRow[]> {
    // Candidates as in the SQLite store: stale leases first (their worker died; the oldest work there
    // is), then pending jobs in run_at order, each read by its own index range and LIMIT, so a claim
    // costs O(limit) however long the backlog. FOR UPDATE SKIP LOCKED makes concurrent workers on
    // other instances take disjoint candidates instead of queueing on each other's rows.
    const candidates = sql`
      with stale as (
        select ${deliveryJobs.id} as id, ${deliveryJobs.leaseUntil} as at from ${deliveryJobs}
        where ${deliveryJobs.status} = 'sending' and ${deliveryJobs.leaseUntil} <= ${now}::bigint
        order by ${deliveryJobs.leaseUntil} limit ${limit} for update skip locked
      ), pending as (
        select ${deliveryJobs.id} as id, ${deliveryJobs.runAt} as at from ${deliveryJobs}
        where ${deliveryJobs.status} = 'pending' and ${deliveryJobs.runAt} <= ${now}::bigint
        order by ${deliveryJobs.runAt} limit ${limit} for update skip locked
      )
      select id from (select id, 0 as pri, at from stale union all select id, 1, at from pending) c order by pri, at limit ${limit}`;
    // The claim gate: `claimable` is tested again on each locked row, so a job is claimed by exactly
    // one worker. A claim counts a try, so a job that keeps killing its worker still runs out.
    return this.db
      .update(deliveryJobs)
      .set({ status: "sending", leaseOwner: owner, leaseUntil: now + leaseMs, attempts: sql`${deliveryJobs.attempts} + 1`, updatedAt: now })
      .where(and(sql`${deliveryJobs.id} in (${candidates})`, claimable(now)))
      .returning();
  }

  async finish(id: string, owner: string, outcome: JobOutcome, now: number): Promise<boolean> {
    const rows = await this.db
      .update(deliveryJobs)
      .set(finishedJobColumns(outcome, now))
      .where(this.ownedBy(id, owner))
      .returning({ id: deliveryJobs.id });
    return rows.length > 0;
  }

  async reschedule(id: string, owner: string, runAt: number, errorCode: number | null, error: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(deliveryJobs)
      .set({ status: "pending", runAt, leaseOwner: null, leaseUntil: null, errorCode, lastError: error, updatedAt: now })
      .where(this.ownedBy(id, owner))
      .returning({ id: deliveryJobs.id });
    return rows.length > 0;
  }

  async nextDueAt(): Promise<number | null> {
    const [r] = await this.db
      .select({
        at: sql<string | null>`min(case when ${deliveryJobs.status} = 'pending' then ${deliveryJobs.runAt} else ${deliveryJobs.leaseUntil} end)`,
      })
      .from(deliveryJobs)
      .where(or(eq(deliveryJobs.status, "pending"), and(eq(deliveryJobs.status, "sending"), isNotNull(deliveryJobs.leaseUntil))));
    // min() over bigint comes back as a string from node-postgres.
    return r?.at == null ? null : Number(r.at);
  }

  async getJob(id: string): Promise<DeliveryJobRow | null> {
    const [row] = await this.db.select().from(deliveryJobs).where(eq(deliveryJobs.id, id));
    return row ?? null;
  }

  async listForVerification(verificationId: string): Promise<DeliveryJobRow[]> {
    return this.db.select().from(deliveryJobs).where(eq(deliveryJobs.verificationId, verificationId)).orderBy(asc(deliveryJobs.createdAt), asc(deliveryJobs.id));
  }

  async recordAttemptStatus(sendAttemptId: string, u: AttemptStatusUpdate): Promise<SendAttemptRow | null> {
    const rank = DELIVERY_STATUS_RANK[u.status] ?? 0;
    // Forward only, in one statement (the row lock orders concurrent callbacks from any instance).
    const currentRank = sql`case ${sendAttempts.deliveryStatus} ${sql.join(
      Object.entries(DELIVERY_STATUS_RANK).map(([s, r]) => sql`when ${s} then ${r}::int`),
      sql` `,
    )} else 0 end`;
    const [row] = await this.db
      .update(sendAttempts)
      .set({
        deliveryStatus: sql`case when ${rank}::int > ${currentRank} then ${u.status} else ${sendAttempts.deliveryStatus} end`,
        providerSid: u.providerSid ? sql`coalesce(${sendAttempts.providerSid}, ${u.providerSid})` : undefined,
        price: u.price ?? undefined,
        priceUnit: u.priceUnit ?? undefined,
        errorCode: u.errorCode ?? undefined,
      })
      // An attempt belongs to one provider message: a status for another sid is not recorded on it.
      .where(and(eq(sendAttempts.id, sendAttemptId), u.providerSid ? or(isNull(sendAttempts.providerSid), eq(sendAttempts.providerSid, u.providerSid)) : undefined))
      .returning(sendAttemptColumns);
    return row ?? null;
  }

  private ownedBy(id: string, owner: string) {
    return and(eq(deliveryJobs.id, id), eq(deliveryJobs.status, "sending"), eq(deliveryJobs.leaseOwner, owner));
  }
}

withCleanErrors(PgDeliveryJobs);

/** Due: pending and its time came, or sending under a lease that expired (its worker died). */
function claimable(now: number) {
  return or(
    and(eq(deliveryJobs.status, "pending"), lte(deliveryJobs.runAt, now)),
    and(eq(deliveryJobs.status, "sending"), lte(deliveryJobs.leaseUntil, now)),
  );
}
