import type { ConsentRecordRow } from "../consent.js";
import { insertConsent } from "./consent.js";
import type { DeliveryJobBuilder, DeliveryJobRow } from "../delivery.js";
import { insertValues, rowColumns, rowMapper, selectList } from "../schema/define.js";
import { apiKeys, deliveryJobs, instanceSettings, riskDecisions, sendAttempts, services, verifications } from "../schema/tables.js";
import { bucketStart } from "../../risk/window-counter.js";
import { cached, writeConfig, type ConfigCache } from "../config-cache.js";
import { chargeSpend } from "./limits.js";
import { COUNTER_BUCKET_MS, incrementCounters } from "./window-counter.js";
import { adhoc, get, query, run, type Db, type Step } from "../sql/query.js";
import type { EventRows } from "../webhooks.js";
import { allWithEvents, enqueueEvents, getWithEvents } from "./webhooks.js";
import type {
  ApiKeyRow,
  CheckWriteResult,
  CreateOrResendResult,
  RiskDecisionRow,
  RiskWrites,
  SendAttemptRow,
  ServicePatch,
  ServiceRow,
  Store,
  VerificationRow,
} from "../types.js";

const V = selectList(verifications);
const A = selectList(sendAttempts);
const S = selectList(services);
const K = selectList(apiKeys);
const toService = rowMapper<ServiceRow>(services)!;
const toDecision = rowMapper<RiskDecisionRow>(riskDecisions)!;

/** A verification a check may still move: PENDING, within its TTL, attempts left. */
const CHECKABLE = "id = :id and status = 'PENDING' and expires_at > :now and check_attempts < :maxCheckAttempts";

const q = {
  insertService: query<Record<string, unknown>>(`insert into services ${insertValues(services)}`),
  serviceById: query<{ id: string }, ServiceRow>(`select ${S} from services where id = :id`, { map: toService }),
  listServices: query<object, ServiceRow>(`select ${S} from services order by created_at, id`, { map: toService }),
  deleteService: query<{ id: string }>("delete from services where id = :id"),

  // Keys are 32 random bytes, so only two instances registering the same ADMIN_API_KEY at start collide.
  insertApiKey: query<ApiKeyRow>(`insert into api_keys ${insertValues(apiKeys)} on conflict (key_hash) do nothing`),
  apiKeyByHash: query<{ keyHash: string }, ApiKeyRow>(`select ${K} from api_keys where key_hash = :keyHash`),
  countAdminKeys: query<object, { n: number }>("select count(*) as n from api_keys where role = 'ADMIN' and revoked_at is null"),
  listApiKeys: query<{ serviceId: string | null }, ApiKeyRow>(
    (d) => `select ${K} from api_keys where (${d.text(":serviceId")} is null or service_id = :serviceId) order by created_at, id`,
  ),
  revokeApiKey: query<{ id: string; at: number }>("update api_keys set revoked_at = :at where id = :id and revoked_at is null"),
  apiKeyById: query<{ id: string }, ApiKeyRow>(`select ${K} from api_keys where id = :id`),
  touchApiKey: query<{ id: string; at: number }>("update api_keys set last_used_at = :at where id = :id"),

  verificationById: query<{ id: string }, VerificationRow>(`select ${V} from verifications where id = :id`),
  pending: query<{ serviceId: string; to: string }, VerificationRow>(`select ${V} from verifications where service_id = :serviceId and to_number = :to and status = 'PENDING'`),
  // Insertion order breaks ties between rows created in the same millisecond.
  latest: query<{ serviceId: string; to: string }, VerificationRow>(
    (d) => `select ${V} from verifications where service_id = :serviceId and to_number = :to order by created_at desc, ${d.insertionOrder} desc limit 1`,
  ),
  /** A PENDING row of (service, to) past its TTL is expired before a start looks for a live one. */
  expireStalePending: query<{ serviceId: string; to: string; now: number }>(
    "update verifications set status = 'EXPIRED', updated_at = :now where service_id = :serviceId and to_number = :to and status = 'PENDING' and expires_at <= :now",
  ),
  /** The guarded resend: the send cap is tested in the statement that counts the send. */
  bumpSend: query<{ id: string; channel: string; now: number; maxSendAttempts: number }, VerificationRow>(
    `update verifications set send_attempts = send_attempts + 1, channel = :channel, updated_at = :now
     where id = :id and status = 'PENDING' and send_attempts < :maxSendAttempts returning ${V}`,
  ),
  insertVerification: query<VerificationRow>(`insert into verifications ${insertValues(verifications)}`),
  /** A first start's insert: does nothing when a PENDING row of (service, to) exists (the partial unique index). */
  insertFresh: query<VerificationRow>(`insert into verifications ${insertValues(verifications)} on conflict (service_id, to_number) where status = 'PENDING' do nothing`),
  insertSendAttempt: query<SendAttemptRow>(`insert into send_attempts ${insertValues(sendAttempts)}`),
  insertJob: query<DeliveryJobRow>(`insert into delivery_jobs ${insertValues(deliveryJobs)}`),
  /** The check's race gate: only one UPDATE can match `status = 'PENDING'` (see {@link SqlStore.approve}). */
  approve: query<{ id: string; now: number; maxCheckAttempts: number }, VerificationRow>(
    `update verifications set status = 'APPROVED', check_attempts = check_attempts + 1, updated_at = :now where ${CHECKABLE} returning ${V}`,
  ),
  /** A wrong code, counted under the same guard; the count that reaches the limit ends it. */
  wrongCheck: query<{ id: string; now: number; maxCheckAttempts: number }, VerificationRow>(
    `update verifications set check_attempts = check_attempts + 1,
       status = case when check_attempts + 1 >= :maxCheckAttempts then 'MAX_ATTEMPTS_REACHED' else 'PENDING' end, updated_at = :now
     where ${CHECKABLE} returning ${V}`,
  ),
  setFinal: query<{ id: string; status: string; now: number }, VerificationRow>(
    `update verifications set status = :status, updated_at = :now where id = :id and status = 'PENDING' returning ${V}`,
  ),
  /**
   * Every instance runs the sweeper: on PostgreSQL SKIP LOCKED lets concurrent sweeps take disjoint
   * rows, and the outer status test drops a row another writer finalised meanwhile, so each expiry is
   * published once. (SQLite has one writer: the same text is simply correct there.)
   */
  expireDue: query<{ now: number; limit: number }, VerificationRow>(
    (d) => `update verifications set status = 'EXPIRED', updated_at = :now
     where status = 'PENDING' and id in (select id from verifications where status = 'PENDING' and expires_at <= :now limit :limit ${d.skipLocked})
     returning ${V}`,
  ),
  // Insertion order keeps sends made in the same millisecond in the order they were made.
  listSendAttempts: query<{ verificationId: string }, SendAttemptRow>(
    (d) => `select ${A} from send_attempts where verification_id = :verificationId order by at, ${d.insertionOrder}`,
  ),
  attemptByProviderSid: query<{ providerSid: string }, SendAttemptRow>(`select ${A} from send_attempts where provider_sid = :providerSid limit 1`),

  insertDecision: query<RiskDecisionRow>(`insert into risk_decisions ${insertValues(riskDecisions)}`),
  // Concurrent first starts of several instances: one insert wins, every one reads the winner's value.
  insertSetting: query<{ key: string; value: string }>(`insert into instance_settings ${insertValues(instanceSettings)} on conflict (key) do nothing`),
  setting: query<{ key: string }, { value: string }>("select value from instance_settings where key = :key"),
  markConverted: query<{ verificationId: string }>(
    "update risk_decisions set converted = true where verification_id = :verificationId and kind = 'START' and outcome = 'ALLOWED' and converted = false",
  ),
};

/** A service row's bound values (settings JSON as text). */
const serviceParams = (row: Partial<ServiceRow>): Record<string, unknown> =>
  row.riskSettings === undefined ? row : { ...row, riskSettings: JSON.stringify(row.riskSettings) };

/** How many times a start looks again when the row it found was finalised under it. */
const RESEND_RETRIES = 5;

/** What {@link createOrResendTx} needs (Store.createOrResend's input). */
type StartInput = Parameters<Store["createOrResend"]>[0];

/**
 * A start's verification writes, as a transaction body: expire a stale PENDING row of (service, to),
 * then resend on the live one (guarded by the send cap) or insert `fresh` (the partial unique index
 * on PENDING (service, to) makes concurrent starts collapse into one row), with its send attempt and
 * its delivery job (the transactional outbox).
 */
function* createOrResendTx(input: StartInput): Generator<Step, CreateOrResendResult, unknown> {
  const { fresh, attempt, maxSendAttempts, now, job, events } = input;
  const key = { serviceId: fresh.serviceId, to: fresh.to };
  const created = function* (): Generator<Step, CreateOrResendResult, unknown> {
    yield* run(q.insertSendAttempt, attempt);
    // The transactional outbox: the send job commits (or rolls back) with the attempt it sends, and
    // so do the webhook deliveries of its event.
    if (job) yield* run(q.insertJob, job(fresh, attempt));
    const r = { kind: "created", verification: fresh, attempt } as const;
    yield* enqueueEvents(events, r);
    return r;
  };
  // The common case, a number with nothing pending: one guarded insert. A stale PENDING row (past its
  // TTL) or a concurrent start makes it insert nothing, and the general path below takes over.
  if (input.noPendingSeen && (yield* run(q.insertFresh, fresh)) === 1) return yield* created();
  for (let i = 0; i <= RESEND_RETRIES; i++) {
    // A PENDING row past its TTL is dead: expire it so a fresh code can be issued.
    yield* run(q.expireStalePending, { ...key, now });
    const live = yield* get(q.pending, key);
    if (!live) {
      yield* run(q.insertVerification, fresh);
      return yield* created();
    }
    const bumped = yield* get(q.bumpSend, { id: live.id, channel: attempt.channel, now, maxSendAttempts });
    if (bumped) {
      const a = { ...attempt, verificationId: live.id };
      yield* run(q.insertSendAttempt, a);
      if (job) yield* run(q.insertJob, job(bumped, a));
      const r = { kind: "resent", verification: bumped, attempt: a } as const;
      yield* enqueueEvents(events, r);
      return r;
    }
    // Still PENDING: the cap stopped it. Otherwise another instance finalised it meanwhile (only on
    // PostgreSQL; SQLite's single writer cannot interleave): look again, as a later request would.
    const current = yield* get(q.verificationById, { id: live.id });
    if (current?.status === "PENDING") return { kind: "max_sends", verification: current };
  }
  throw new Error("createOrResend: the pending verification kept changing under it");
}

/**
 * A request's risk writes as transaction steps: the window-counter increments and the rate limits
 * taken (one multi-row upsert), then the spend (a reservation or a charge). Gates last: their rows'
 * locks (PostgreSQL) are then held for the commit alone. A gate that would be broken throws
 * CommitRefused and the whole transaction rolls back.
 */
function* applyWrites(w: RiskWrites, at: number): Generator<Step, void, unknown> {
  yield* incrementCounters(w.counts, bucketStart(at, COUNTER_BUCKET_MS), w.limits);
  if (w.spend) yield* chargeSpend(w.spend, at);
}

/** Rolls a check's transaction back when its guarded write matched nothing, carrying the row as it is. */
class NotCheckable {
  constructor(readonly row: VerificationRow | null) {}
}

/**
 * The verification store over either database (store/sql). Every status move is one conditional
 * write, so the domain never holds a lock across a round trip; each method says which condition
 * guards it. SQLite serialises writers; on PostgreSQL row locks do (under READ COMMITTED a loser
 * re-evaluates the WHERE on the winner's row), and the partial unique index on PENDING
 * (service_id, to_number) collapses concurrent starts.
 */
export class SqlStore implements Store {
  readonly dialect: "sqlite" | "postgres";

  /** `cache` serves services and API keys (store/config-cache.ts); without one every read queries. */
  constructor(
    private readonly db: Db,
    private readonly cache?: ConfigCache,
  ) {
    this.dialect = db.dialect.name;
  }

  async insertService(row: ServiceRow): Promise<void> {
    await writeConfig(this.db, this.cache, () => run(q.insertService, serviceParams(row)));
  }

  async updateService(id: string, patch: ServicePatch): Promise<ServiceRow | null> {
    const cols = rowColumns(services).filter(([k]) => k in patch && (patch as Record<string, unknown>)[k] !== undefined);
    const set = cols.map(([k, c]) => `${c.name} = :${k}`).join(", ");
    const update = adhoc<Record<string, unknown>, ServiceRow>(`update services set ${set} where id = :id returning ${S}`, toService);
    return (await writeConfig(this.db, this.cache, () => get(update, { ...serviceParams(patch), id }))) ?? null;
  }

  async deleteService(id: string): Promise<boolean> {
    return (await writeConfig(this.db, this.cache, () => run(q.deleteService, { id }))) > 0;
  }

  getService(id: string): Promise<ServiceRow | null> {
    return cached(this.cache, `service:${id}`, async () => (await this.db.get(q.serviceById, { id })) ?? null);
  }

  listServices(): Promise<ServiceRow[]> {
    return this.db.all(q.listServices, {});
  }

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    await writeConfig(this.db, this.cache, () => run(q.insertApiKey, row));
  }

  findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | null> {
    // Unknown keys are not kept: a stranger's guesses must not fill the cache (or outlive a new key).
    return cached(this.cache, `key:${keyHash}`, async () => (await this.db.get(q.apiKeyByHash, { keyHash })) ?? null, (row) => row !== null);
  }

  async countAdminKeys(): Promise<number> {
    return (await this.db.get(q.countAdminKeys, {}))?.n ?? 0;
  }

  listApiKeys(serviceId?: string): Promise<ApiKeyRow[]> {
    return this.db.all(q.listApiKeys, { serviceId: serviceId ?? null });
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    return (await writeConfig(this.db, this.cache, () => run(q.revokeApiKey, { id, at }))) > 0;
  }

  async getApiKey(id: string): Promise<ApiKeyRow | null> {
    return (await this.db.get(q.apiKeyById, { id })) ?? null;
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    await this.db.run(q.touchApiKey, { id, at });
  }

  async getVerification(id: string): Promise<VerificationRow | null> {
    return (await this.db.get(q.verificationById, { id })) ?? null;
  }

  async findPending(serviceId: string, to: string): Promise<VerificationRow | null> {
    return (await this.db.get(q.pending, { serviceId, to })) ?? null;
  }

  async findLatest(serviceId: string, to: string): Promise<VerificationRow | null> {
    return (await this.db.get(q.latest, { serviceId, to })) ?? null;
  }

  createOrResend(input: StartInput): Promise<CreateOrResendResult> {
    return this.db.transaction(() => createOrResendTx(input));
  }

  async commitStart(input: StartInput & { decision: { sent: RiskDecisionRow; capped: RiskDecisionRow }; writes: RiskWrites; consent?: ConsentRecordRow | null }): Promise<CreateOrResendResult> {
    const { decision, writes, now, consent } = input;
    return this.db.transaction(function* () {
      const r = yield* createOrResendTx(input);
      const row = r.kind === "max_sends" ? decision.capped : decision.sent;
      yield* run(q.insertDecision, { ...row, verificationId: r.verification.id, attemptId: r.kind === "max_sends" ? row.attemptId : r.attempt.id });
      // The user's consent is a fact whether or not the send cap let this send out: kept either way.
      if (consent) yield* run(insertConsent, { ...consent, verificationId: r.verification.id });
      // Nothing was sent under the cap: the send's counts, spend and verdict do not apply.
      if (r.kind !== "max_sends") yield* applyWrites(writes, now);
      return r;
    });
  }

  async commitCheck(input: Parameters<Store["commitCheck"]>[0]): Promise<CheckWriteResult> {
    const { id, matched, maxCheckAttempts, now, decision, writes, approved, events } = input;
    try {
      return await this.db.transaction(function* (): Generator<Step, CheckWriteResult, unknown> {
        // The race gate, as in approve / recordWrongCheck: one guarded UPDATE decides.
        const row = yield* get(matched ? q.approve : q.wrongCheck, { id, maxCheckAttempts, now });
        // Nothing to check any more: write nothing (the caller records the check as it answers it).
        if (!row) throw new NotCheckable((yield* get(q.verificationById, { id })) ?? null);
        yield* run(q.insertDecision, decision);
        if (matched) yield* run(q.markConverted, { verificationId: id });
        yield* applyWrites(matched ? approved : writes, now);
        yield* enqueueEvents(events, row);
        return matched ? { kind: "approved", verification: row } : { kind: "wrong", verification: row };
      });
    } catch (err) {
      if (err instanceof NotCheckable) return { kind: "not_pending", verification: err.row };
      throw err;
    }
  }

  async commitDecision(decision: RiskDecisionRow, writes: RiskWrites, events?: EventRows<RiskDecisionRow>): Promise<void> {
    await this.db.transaction(function* () {
      yield* run(q.insertDecision, decision);
      yield* applyWrites(writes, decision.createdAt);
      yield* enqueueEvents(events, decision);
    });
  }

  async approve(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult> {
    // The race gate: only one UPDATE can match `status = 'PENDING'` (SQLite's single writer; on
    // PostgreSQL the second waits on the row lock, re-evaluates the WHERE and matches nothing), so two
    // correct codes sent at once approve exactly once; the loser sees not_pending.
    const row = await this.db.get(q.approve, { id, maxCheckAttempts, now });
    if (row) return { kind: "approved", verification: row };
    return { kind: "not_pending", verification: await this.getVerification(id) };
  }

  async recordWrongCheck(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult> {
    // Counting and the limit test are one statement: N concurrent wrong guesses cannot push
    // check_attempts past the limit, and the one that reaches it moves the status.
    const row = await this.db.get(q.wrongCheck, { id, maxCheckAttempts, now });
    if (row) return { kind: "wrong", verification: row };
    return { kind: "not_pending", verification: await this.getVerification(id) };
  }

  async setFinalStatus(id: string, status: "CANCELED" | "FAILED" | "EXPIRED" | "APPROVED", now: number, events?: EventRows<VerificationRow>): Promise<VerificationRow | null> {
    return (await getWithEvents(this.db, q.setFinal, { id, status, now }, events)) ?? null;
  }

  expireDue(now: number, limit = 500, events?: EventRows<VerificationRow>): Promise<VerificationRow[]> {
    return allWithEvents(this.db, q.expireDue, { now, limit }, events);
  }

  listSendAttempts(verificationId: string): Promise<SendAttemptRow[]> {
    return this.db.all(q.listSendAttempts, { verificationId });
  }

  async findSendAttemptByProviderSid(providerSid: string): Promise<SendAttemptRow | null> {
    return (await this.db.get(q.attemptByProviderSid, { providerSid })) ?? null;
  }

  async insertDecision(row: RiskDecisionRow): Promise<void> {
    await this.db.run(q.insertDecision, row);
  }

  async markConverted(verificationId: string): Promise<void> {
    // The roll-up triggers update a few counter rows per decision row. Two verifications converting at
    // once may reach shared counter rows in different orders; PostgreSQL then aborts one as a deadlock,
    // and the transaction runs it again (idempotent: converted is set, not added).
    await this.db.transaction(function* () {
      yield* run(q.markConverted, { verificationId });
    });
  }

  async ensureSetting(key: string, value: string): Promise<string> {
    await this.db.run(q.insertSetting, { key, value });
    return (await this.db.get(q.setting, { key }))!.value;
  }

  ping(): Promise<void> {
    return this.db.ping();
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export { toDecision };
/** The decision insert (bulk tools reuse it). */
export const insertDecision = q.insertDecision;
/** One verification by id (a DELIVERY_STATUS event's, read inside the status write: queries/delivery.ts). */
export const verificationById = q.verificationById;
