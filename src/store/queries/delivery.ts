import { DELIVERY_STATUS_RANK, type AttemptStatusUpdate, type AttemptWithVerification, type DeliveryJobRow, type DeliveryJobStore, type JobOutcome } from "../delivery.js";
import { selectList } from "../schema/define.js";
import { deliveryJobs, sendAttempts } from "../schema/tables.js";
import { get, query, type Db } from "../sql/query.js";
import type { SendAttemptRow } from "../types.js";
import type { EventRows } from "../webhooks.js";
import { verificationById } from "./store.js";
import { enqueueEvents } from "./webhooks.js";

const J = selectList(deliveryJobs);
const A = selectList(sendAttempts);
/** Guarded like every write of a claimed job: still `sending`, and still ours. */
const OWNED = "id = :id and status = 'sending' and lease_owner = :owner";
/** A final state: the sealed code is only needed while the job may still send, the lease ends. */
const FINAL = "sealed_code = null, lease_owner = null, lease_until = null, updated_at = :now";
/** The rank of an attempt's current delivery status (DELIVERY_STATUS_RANK, as SQL). */
const CURRENT_RANK = `case delivery_status ${Object.entries(DELIVERY_STATUS_RANK).map(([s, r]) => `when '${s}' then ${r}`).join(" ")} else 0 end`;

const q = {
  /**
   * Candidates first, each by its own index range and LIMIT, so a claim reads O(limit) rows however
   * long the backlog: stale leases (their worker died; the oldest work there is), then pending jobs in
   * run_at order. On PostgreSQL the candidates are locked SKIP LOCKED, so workers on other instances
   * take disjoint jobs instead of queueing on each other's rows.
   * The claim gate: "due" is tested again on each row the UPDATE takes, so of two workers that picked
   * the same candidates only the first takes them (SQLite runs one writer at a time; PostgreSQL
   * re-evaluates the WHERE on the locked row). A claim counts a try, so a job that keeps killing its
   * worker still runs out of attempts.
   */
  claim: query<{ owner: string; now: number; leaseUntil: number; limit: number }, DeliveryJobRow>(
    (d) => `update delivery_jobs set status = 'sending', lease_owner = :owner, lease_until = :leaseUntil, attempts = attempts + 1, updated_at = :now
     where id in (
       with stale as (select id, lease_until as at from delivery_jobs where status = 'sending' and lease_until <= :now order by lease_until limit :limit ${d.skipLocked}),
            due as (select id, run_at as at from delivery_jobs where status = 'pending' and run_at <= :now order by run_at limit :limit ${d.skipLocked})
       select id from (select id, 0 as pri, at from stale union all select id, 1 as pri, at from due) c order by pri, at limit :limit)
     and ((status = 'pending' and run_at <= :now) or (status = 'sending' and lease_until <= :now))
     returning ${J}`,
  ),
  sent: query<{ id: string; owner: string; now: number; providerSid: string | null }>(`update delivery_jobs set status = 'sent', provider_sid = :providerSid, ${FINAL} where ${OWNED}`),
  failed: query<{ id: string; owner: string; now: number; errorCode: number | null; error: string }>(
    `update delivery_jobs set status = 'failed', error_code = :errorCode, last_error = :error, ${FINAL} where ${OWNED}`,
  ),
  canceled: query<{ id: string; owner: string; now: number; error: string }>(`update delivery_jobs set status = 'canceled', last_error = :error, ${FINAL} where ${OWNED}`),
  reschedule: query<{ id: string; owner: string; runAt: number; errorCode: number | null; error: string; now: number }>(
    `update delivery_jobs set status = 'pending', run_at = :runAt, lease_owner = null, lease_until = null, error_code = :errorCode, last_error = :error, updated_at = :now where ${OWNED}`,
  ),
  nextDue: query<object, { at: number | null }>(
    `select min(case when status = 'pending' then run_at else lease_until end) as at from delivery_jobs
     where status = 'pending' or (status = 'sending' and lease_until is not null)`,
  ),
  jobOfAttempt: query<{ sendAttemptId: string }, DeliveryJobRow>(`select ${J} from delivery_jobs where send_attempt_id = :sendAttemptId`),
  /**
   * Forward only, in one statement (SQLite's writer lock, or PostgreSQL's row lock, orders concurrent
   * callbacks): the status moves when its rank is above the current one's; provider sid, price and
   * error code fill in whenever given. An attempt belongs to one provider message: a status for
   * another sid is not recorded on it.
   */
  attemptStatus: query<{ id: string; status: string; rank: number; providerSid: string | null; price: string | null; priceUnit: string | null; errorCode: number | null }, SendAttemptRow>(
    (d) => `update send_attempts set
       delivery_status = case when ${d.int(":rank")} > ${CURRENT_RANK} then ${d.text(":status")} else delivery_status end,
       provider_sid = coalesce(provider_sid, ${d.text(":providerSid")}),
       price = coalesce(${d.text(":price")}, price),
       price_unit = coalesce(${d.text(":priceUnit")}, price_unit),
       error_code = coalesce(${d.int(":errorCode")}, error_code)
     where id = :id and (${d.text(":providerSid")} is null or provider_sid is null or provider_sid = :providerSid)
     returning ${A}`,
  ),
};

/** Durable delivery jobs (the transactional outbox); every write is one guarded statement. */
export class SqlDeliveryJobs implements DeliveryJobStore {
  constructor(private readonly db: Db) {}

  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<DeliveryJobRow[]> {
    return this.db.all(q.claim, { owner, now, leaseUntil: now + leaseMs, limit });
  }

  async finish(id: string, owner: string, outcome: JobOutcome, now: number): Promise<boolean> {
    const key = { id, owner, now };
    const changed =
      outcome.status === "sent"
        ? await this.db.run(q.sent, { ...key, providerSid: outcome.providerSid })
        : outcome.status === "failed"
          ? await this.db.run(q.failed, { ...key, errorCode: outcome.errorCode, error: outcome.error })
          : await this.db.run(q.canceled, { ...key, error: outcome.error });
    return changed > 0;
  }

  async reschedule(id: string, owner: string, runAt: number, errorCode: number | null, error: string, now: number): Promise<boolean> {
    return (await this.db.run(q.reschedule, { id, owner, runAt, errorCode, error, now })) > 0;
  }

  async nextDueAt(): Promise<number | null> {
    return (await this.db.get(q.nextDue, {}))?.at ?? null;
  }

  async jobForAttempt(sendAttemptId: string): Promise<DeliveryJobRow | null> {
    return (await this.db.get(q.jobOfAttempt, { sendAttemptId })) ?? null;
  }

  async recordAttemptStatus(sendAttemptId: string, u: AttemptStatusUpdate, events?: EventRows<AttemptWithVerification>): Promise<SendAttemptRow | null> {
    const params = {
      id: sendAttemptId,
      status: u.status,
      rank: DELIVERY_STATUS_RANK[u.status] ?? 0,
      providerSid: u.providerSid || null,
      price: u.price ?? null,
      priceUnit: u.priceUnit ?? null,
      errorCode: u.errorCode ?? null,
    };
    if (!events) return (await this.db.get(q.attemptStatus, params)) ?? null;
    return this.db.transaction(function* () {
      const attempt = yield* get(q.attemptStatus, params);
      if (!attempt) return null;
      const verification = yield* get(verificationById, { id: attempt.verificationId });
      if (verification) yield* enqueueEvents(events, { attempt, verification });
      return attempt;
    });
  }
}
