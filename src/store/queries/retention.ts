import type { DecisionRef, LeaseRow, LogPosition, PurgeReport, PurgerState, RetentionStore, StoreSize } from "../retention.js";
import { rowMapper, selectList } from "../schema/define.js";
import { maintenance } from "../schema/tables.js";
import { all, query, run, type Db } from "../sql/query.js";
import { DAY_MS, HOUR_MS } from "../stats.js";
import { EVERY_SERVICE } from "./stats.js";

type Limit = { limit: number };
type Ids = { ids: string[] };

/** Every status a verification can have: `status in (…)` lets a (status, …) index serve a range on its second column. */
const ANY_STATUS = "status in ('PENDING', 'APPROVED', 'CANCELED', 'MAX_ATTEMPTS_REACHED', 'EXPIRED', 'FAILED')";
/** A verification nobody can still check or resend: the retention may take it. */
const settled = (t = "") => `(${t}status <> 'PENDING' or ${t}expires_at <= :now)`;

const toLease = rowMapper<LeaseRow>(maintenance)!;

const q = {
  /**
   * The lease: one conditional upsert. It takes the row when there is none, when the lease ran out,
   * or when the asker holds it already (a renewal); RETURNING says whether it did (SQLite's writer
   * lock, or PostgreSQL's row lock of ON CONFLICT, makes two askers take turns).
   */
  acquire: query<{ name: string; owner: string; now: number; until: number }, { owner: string }>(
    `insert into maintenance (name, owner, lease_until, state, updated_at) values (:name, :owner, :until, '{}', :now)
     on conflict (name) do update set owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
     where maintenance.lease_until is null or maintenance.lease_until <= :now or maintenance.owner = excluded.owner
     returning owner`,
  ),
  release: query<{ name: string; owner: string; lastRun: string; state: string; now: number }>(
    (d) => `update maintenance set owner = null, lease_until = null, last_run = ${d.name === "postgres" ? ":lastRun::jsonb" : ":lastRun"},
       state = ${d.name === "postgres" ? ":state::jsonb" : ":state"}, updated_at = :now where name = :name and owner = :owner`,
  ),
  lease: query<{ name: string }, LeaseRow>(`select ${selectList(maintenance)} from maintenance where name = :name`, { map: toLease }),

  /** The services of the decision log, skipping along risk_decisions_service_idx: one seek per service. */
  decisionServices: query<object, { id: string }>(
    `with recursive s(id) as (
       select min(service_id) from risk_decisions
       union all
       select (select min(service_id) from risk_decisions where service_id > s.id) from s where s.id is not null)
     select id from s where id is not null`,
  ),
  /** The oldest decisions of a service, through risk_decisions_service_idx (service_id, created_at, id). */
  oldest: query<{ serviceId: string; cutoff: number } & Limit, { id: string; verificationId: string | null }>(
    `select id, verification_id as "verificationId" from risk_decisions where service_id = :serviceId and created_at < :cutoff order by created_at, id limit :limit`,
  ),
  after: query<{ serviceId: string; afterAt: number; afterId: string; cutoff: number } & Limit, DecisionRef>(
    (d) => `select id, created_at as "createdAt", to_number as "to", verification_id as "verificationId" from risk_decisions
     where service_id = :serviceId and (created_at, id) > (${d.int(":afterAt")}, ${d.text(":afterId")}) and created_at < :cutoff
     order by created_at, id limit :limit`,
  ),
  settled: query<Ids & { now: number }, { id: string }>((d) => `select id from verifications where id in ${d.inList(":ids", "text")} and ${settled()}`),
  deleteDecisions: query<Ids>((d) => `delete from risk_decisions where id in ${d.inList(":ids", "text")}`),
  deleteJobsOf: query<Ids>((d) => `delete from delivery_jobs where verification_id in ${d.inList(":ids", "text")}`),
  deleteAttemptsOf: query<Ids>((d) => `delete from send_attempts where verification_id in ${d.inList(":ids", "text")}`),
  deleteVerifications: query<Ids>((d) => `delete from verifications where id in ${d.inList(":ids", "text")}`),
  /**
   * The number becomes its keyed token; what else ties the row to a person goes: the decision's IP and
   * tags; the verification's code hash and seed (the code can no longer be checked anyway) and PSD2
   * amount and payee. Country, prefix and line type stay: the statistics read them.
   */
  anonymizeDecisions: query<{ id: string[]; anon: (string | null)[] }>(
    (d) => `update risk_decisions set to_number = r.anon, ip = null, tags = null from ${d.rows([["id", "text"], ["anon", "text"]])} as r where risk_decisions.id = r.id`,
  ),
  anonymizeVerifications: query<{ id: string[]; anon: string[]; now: number }>(
    (d) => `update verifications set to_number = r.anon, code_hash = '', code_seed = null, amount = null, payee = null
     from ${d.rows([["id", "text"], ["anon", "text"]])} as r where verifications.id = r.id and verifications.to_number like '+%' and ${settled("verifications.")}`,
  ),
  /** Through verifications_expiry_idx (status, expires_at): one range per status. */
  expiredBefore: query<{ cutoff: number } & Limit, { id: string }>(`select id from verifications where ${ANY_STATUS} and expires_at < :cutoff limit :limit`),

  /** Final jobs through delivery_jobs_due_idx (status, run_at): a job is final after it ran. */
  finishedJobs: query<{ cutoff: number } & Limit>(
    `delete from delivery_jobs where id in (select id from delivery_jobs where status in ('sent', 'failed', 'canceled') and run_at < :cutoff and updated_at < :cutoff limit :limit)`,
  ),
  finishedWebhooks: query<{ cutoff: number } & Limit>(
    `delete from webhook_deliveries where id in (select id from webhook_deliveries where status in ('delivered', 'failed') and run_at < :cutoff and updated_at < :cutoff limit :limit)`,
  ),
  expiredLimits: query<{ now: number } & Limit>("delete from rate_limits where key in (select key from rate_limits where expire < :now limit :limit)"),
  oldCounters: query<{ before: number } & Limit>(
    "delete from risk_counters where (key, bucket) in (select key, bucket from risk_counters where bucket < :before limit :limit)",
  ),

  /**
   * Roll-ups per service (one primary-key range each), the services found as the statistics find them
   * (through their DAY rows). A bucket goes once it ended before the cutoff, so a day's row outlives
   * its hours' and a service stays findable while it has any.
   */
  rollupsBefore: query<{ hourCutoff: number; dayCutoff: number } & Limit>(
    `${EVERY_SERVICE}delete from risk_rollups where (span, service_id, bucket, country, channel, stage, error_code) in (
       select span, service_id, bucket, country, channel, stage, error_code from risk_rollups
       where service_id in (select id from rollup_services) and ((span = 'HOUR' and bucket < :hourCutoff) or (span = 'DAY' and bucket < :dayCutoff)) limit :limit)`,
  ),
  prefixRollupsBefore: query<{ dayCutoff: number } & Limit>(
    `${EVERY_SERVICE}delete from risk_prefix_rollups where (service_id, day, prefix, country, channel, stage, error_code) in (
       select service_id, day, prefix, country, channel, stage, error_code from risk_prefix_rollups
       where service_id in (select id from prefix_services) and day < :dayCutoff limit :limit)`,
  ),
  spendBefore: query<{ day: string }>("delete from spend_daily where day < :day"),
  alertsBefore: query<{ cutoff: number }>("delete from delivery_alerts where resolved_at < :cutoff"),
  erasuresBefore: query<{ cutoff: number }>("delete from erasures where at < :cutoff"),

  size: query<object, { bytes: number; free: number }>((d) => d.databaseSize),
};

/** The retention's statements (store/retention.ts says what each may touch and for how long). */
export class SqlRetentionStore implements RetentionStore {
  constructor(
    private readonly db: Db,
    /** SQLite's incremental_vacuum step (store/sql/sqlite.ts); absent on PostgreSQL. */
    private readonly vacuum?: (pages: number) => number,
  ) {}

  async acquire(name: string, owner: string, now: number, until: number): Promise<boolean> {
    return (await this.db.get(q.acquire, { name, owner, now, until })) !== undefined;
  }

  async release(name: string, owner: string, report: PurgeReport, state: PurgerState, now: number): Promise<void> {
    await this.db.run(q.release, { name, owner, lastRun: JSON.stringify(report), state: JSON.stringify(state), now });
  }

  async lease(name: string): Promise<LeaseRow | null> {
    return (await this.db.get(q.lease, { name })) ?? null;
  }

  async decisionServices(): Promise<string[]> {
    return (await this.db.all(q.decisionServices, {})).map((r) => r.id);
  }

  async deleteDecisions(serviceId: string, cutoff: number, now: number, limit: number): Promise<Record<string, number>> {
    const rows = await this.db.all(q.oldest, { serviceId, cutoff, limit });
    if (rows.length === 0) return { risk_decisions: 0 };
    const vids = [...new Set(rows.flatMap((r) => (r.verificationId ? [r.verificationId] : [])))];
    return this.db.transaction(function* () {
      // A verification goes with its first decision past the retention (the others follow on later runs).
      const ids = vids.length ? (yield* all(q.settled, { ids: vids, now })).map((r) => r.id) : [];
      const out = ids.length ? yield* deleteVerifications(ids) : {};
      return { ...out, risk_decisions: yield* run(q.deleteDecisions, { ids: rows.map((r) => r.id) }) };
    });
  }

  decisionsBefore(serviceId: string, after: LogPosition, cutoff: number, limit: number): Promise<DecisionRef[]> {
    return this.db.all(q.after, { serviceId, afterAt: after[0], afterId: after[1], cutoff, limit });
  }

  anonymize(decisions: { id: string; to: string | null }[], verifications: { id: string; to: string }[], now: number): Promise<{ decisions: number; verifications: number }> {
    return this.db.transaction(function* () {
      const d = decisions.length ? yield* run(q.anonymizeDecisions, { id: decisions.map((r) => r.id), anon: decisions.map((r) => r.to) }) : 0;
      const v = verifications.length ? yield* run(q.anonymizeVerifications, { id: verifications.map((r) => r.id), anon: verifications.map((r) => r.to), now }) : 0;
      return { decisions: d, verifications: v };
    });
  }

  async deleteVerificationsExpiredBefore(cutoff: number, limit: number): Promise<Record<string, number>> {
    const ids = (await this.db.all(q.expiredBefore, { cutoff, limit })).map((r) => r.id);
    if (ids.length === 0) return { verifications: 0 };
    return this.db.transaction(() => deleteVerifications(ids));
  }

  deleteFinishedJobs(cutoff: number, limit: number): Promise<number> {
    return this.db.run(q.finishedJobs, { cutoff, limit });
  }

  deleteFinishedWebhooks(cutoff: number, limit: number): Promise<number> {
    return this.db.run(q.finishedWebhooks, { cutoff, limit });
  }

  deleteExpiredLimits(now: number, limit: number): Promise<number> {
    return this.db.run(q.expiredLimits, { now, limit });
  }

  deleteCountersBefore(before: number, limit: number): Promise<number> {
    return this.db.run(q.oldCounters, { before, limit });
  }

  async deleteRollupsBefore(cutoff: number, limit: number): Promise<Record<string, number>> {
    const dayCutoff = cutoff - DAY_MS;
    return {
      risk_rollups: await this.db.run(q.rollupsBefore, { hourCutoff: cutoff - HOUR_MS, dayCutoff, limit }),
      risk_prefix_rollups: await this.db.run(q.prefixRollupsBefore, { dayCutoff, limit }),
      spend_daily: await this.db.run(q.spendBefore, { day: new Date(dayCutoff).toISOString().slice(0, 10) }),
      delivery_alerts: await this.db.run(q.alertsBefore, { cutoff }),
      erasures: await this.db.run(q.erasuresBefore, { cutoff }),
    };
  }

  async size(): Promise<StoreSize> {
    const r = (await this.db.get(q.size, {}))!;
    return { bytes: Number(r.bytes), freeBytes: Number(r.free) };
  }

  async vacuumStep(pages: number): Promise<number> {
    return this.vacuum ? this.vacuum(pages) : 0;
  }
}

/** In a transaction: verifications with their delivery jobs and send attempts (children first: no reliance on cascades). */
function* deleteVerifications(ids: string[]) {
  return {
    delivery_jobs: yield* run(q.deleteJobsOf, { ids }),
    send_attempts: yield* run(q.deleteAttemptsOf, { ids }),
    verifications: yield* run(q.deleteVerifications, { ids }),
  };
}
