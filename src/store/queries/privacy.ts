import type { ConsentRecordRow } from "../consent.js";
import type { DeliveryJobRow } from "../delivery.js";
import type { SafeNumberRow } from "../fraud.js";
import type { CounterRow, ErasedCount, ErasureRow, NumberQuery, NumberRows, PrivacyStore } from "../privacy.js";
import { insertValues, rowMapper, selectList } from "../schema/define.js";
import { consentRecords, deliveryJobs, erasures, riskDecisions, safeNumbers, sendAttempts, verifications, webhookDeliveries } from "../schema/tables.js";
import { query, run, type Db } from "../sql/query.js";
import type { RiskDecisionRow, SendAttemptRow, VerificationRow } from "../types.js";
import type { WebhookDeliveryRow } from "../webhooks.js";
import { toDecision } from "./store.js";

/** A number's rows: in clear, or anonymized by the retention (`#` + its token). */
const NUMBER = "to_number in (:to, :anonymized)";
/**
 * A number's verifications, of every service: one search of verifications_to_idx (service_id,
 * to_number, …) per service, rather than a scan of the table.
 */
const ITS_VERIFICATIONS = `service_id in (select id from services) and ${NUMBER}`;

type Num = Pick<NumberQuery, "to" | "anonymized">;
type Ids = { ids: string[] };
type Limit = { limit: number };

const toErasure = rowMapper<ErasureRow>(erasures)!;

const q = {
  verifications: query<Num, VerificationRow>(`select ${selectList(verifications)} from verifications where ${ITS_VERIFICATIONS} order by created_at, id`),
  verificationIds: query<Num, { id: string }>(`select id from verifications where ${ITS_VERIFICATIONS}`),
  attemptsOf: query<Ids, SendAttemptRow>(
    (d) => `select ${selectList(sendAttempts)} from send_attempts where verification_id in ${d.inList(":ids", "text")} order by at, ${d.insertionOrder}`,
  ),
  jobsOf: query<Ids, DeliveryJobRow>((d) => `select ${selectList(deliveryJobs)} from delivery_jobs where verification_id in ${d.inList(":ids", "text")} order by created_at, id`),
  webhooksOf: query<Ids, WebhookDeliveryRow>((d) => `select ${selectList(webhookDeliveries)} from webhook_deliveries where order_key in ${d.inList(":ids", "text")} order by seq`),
  decisions: query<Num, RiskDecisionRow>(`select ${selectList(riskDecisions)} from risk_decisions where ${NUMBER} order by created_at, id`, { map: toDecision }),
  consent: query<{ to: string }, ConsentRecordRow>(`select ${selectList(consentRecords)} from consent_records where to_number = :to order by created_at, id`),
  safe: query<{ to: string }, SafeNumberRow>(`select ${selectList(safeNumbers)} from safe_numbers where number = :to`),
  /**
   * Counter keys carry the token inside (`vg:number::start::<service>::<token>::…`, `sig:seq-n:<service>:<token>`):
   * a scan of these two tables, which only hold live windows (the purger deletes the rest).
   */
  rateLimits: query<{ token: string }, CounterRow>(
    (d) => `select 'rate_limits' as "table", key, points as value, expire as at from rate_limits where ${d.contains("key", ":token")} order by key`,
  ),
  windowCounters: query<{ token: string }, CounterRow>(
    (d) => `select 'risk_counters' as "table", key, n as value, bucket as at from risk_counters where ${d.contains("key", ":token")} order by key, bucket`,
  ),

  deleteJobs: query<Ids>((d) => `delete from delivery_jobs where verification_id in ${d.inList(":ids", "text")}`),
  deleteAttempts: query<Ids>((d) => `delete from send_attempts where verification_id in ${d.inList(":ids", "text")}`),
  deleteWebhooks: query<Ids>((d) => `delete from webhook_deliveries where order_key in ${d.inList(":ids", "text")}`),
  deleteVerifications: query<Ids>((d) => `delete from verifications where id in ${d.inList(":ids", "text")}`),
  /**
   * Decisions stay (the roll-ups and the attempts log count them) without what ties them to the
   * person: the number, the request's IP and the caller's tags. Country, prefix and line type remain.
   */
  anonymizeDecisions: query<Num & Limit>(`update risk_decisions set to_number = null, ip = null, tags = null where id in (select id from risk_decisions where ${NUMBER} limit :limit)`),
  deleteConsent: query<{ to: string } & Limit>("delete from consent_records where id in (select id from consent_records where to_number = :to limit :limit)"),
  deleteRateLimits: query<{ keys: string[] }>((d) => `delete from rate_limits where key in ${d.inList(":keys", "text")}`),
  deleteWindowCounters: query<{ keys: string[] }>((d) => `delete from risk_counters where key in ${d.inList(":keys", "text")}`),

  insertErasure: query<Record<string, unknown>>(`insert into erasures ${insertValues(erasures)}`),
  listErasures: query<Limit, ErasureRow>(`select ${selectList(erasures)} from erasures order by at desc, id desc limit :limit`, { map: toErasure }),
};

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Data-subject requests: a number's rows, and their erasure (store/privacy.ts says where a number lives). */
export class SqlPrivacyStore implements PrivacyStore {
  constructor(private readonly db: Db) {}

  async numberRows(n: NumberQuery): Promise<NumberRows> {
    const num = { to: n.to, anonymized: n.anonymized };
    const verifications = await this.db.all(q.verifications, num);
    const ids = verifications.map((v) => v.id);
    const of = async <R>(qq: typeof q.attemptsOf | typeof q.jobsOf | typeof q.webhooksOf): Promise<R[]> =>
      (await Promise.all(chunks(ids, 500).map((c) => this.db.all(qq as never, { ids: c })))).flat() as R[];
    return {
      verifications,
      sendAttempts: await of<SendAttemptRow>(q.attemptsOf),
      deliveryJobs: await of<DeliveryJobRow>(q.jobsOf),
      webhookDeliveries: await of<WebhookDeliveryRow>(q.webhooksOf),
      decisions: await this.db.all(q.decisions, num),
      consentRecords: await this.db.all(q.consent, { to: n.to }),
      safeList: await this.db.all(q.safe, { to: n.to }),
      counters: [...(await this.db.all(q.rateLimits, { token: n.token })), ...(await this.db.all(q.windowCounters, { token: n.token }))],
    };
  }

  async eraseNumber(n: NumberQuery, batch = 500): Promise<Record<string, ErasedCount>> {
    const tables = ["verifications", "send_attempts", "delivery_jobs", "webhook_deliveries", "risk_decisions", "consent_records", "rate_limits", "risk_counters"];
    const counts: Record<string, ErasedCount> = Object.fromEntries(tables.map((t) => [t, { deleted: 0, anonymized: 0 }]));
    const add = (table: string, deleted: number, anonymized = 0) => {
      counts[table]!.deleted += deleted;
      counts[table]!.anonymized += anonymized;
    };
    const num = { to: n.to, anonymized: n.anonymized };

    // A verification goes with everything that belongs to it, one chunk of verifications per transaction.
    const ids = (await this.db.all(q.verificationIds, num)).map((r) => r.id);
    for (const c of chunks(ids, batch)) {
      const done = await this.db.transaction(function* () {
        return {
          delivery_jobs: yield* run(q.deleteJobs, { ids: c }),
          send_attempts: yield* run(q.deleteAttempts, { ids: c }),
          webhook_deliveries: yield* run(q.deleteWebhooks, { ids: c }),
          verifications: yield* run(q.deleteVerifications, { ids: c }),
        };
      });
      for (const [table, deleted] of Object.entries(done)) add(table, deleted);
    }

    for (let changed = batch; changed === batch; ) add("risk_decisions", 0, (changed = await this.db.run(q.anonymizeDecisions, { ...num, limit: batch })));
    for (let changed = batch; changed === batch; ) add("consent_records", (changed = await this.db.run(q.deleteConsent, { to: n.to, limit: batch })));

    const rateKeys = [...new Set((await this.db.all(q.rateLimits, { token: n.token })).map((r) => r.key))];
    const counterKeys = [...new Set((await this.db.all(q.windowCounters, { token: n.token })).map((r) => r.key))];
    for (const keys of chunks(rateKeys, batch)) add("rate_limits", await this.db.run(q.deleteRateLimits, { keys }));
    for (const keys of chunks(counterKeys, batch)) add("risk_counters", await this.db.run(q.deleteWindowCounters, { keys }));
    return counts;
  }

  async insertErasure(row: ErasureRow): Promise<void> {
    await this.db.run(q.insertErasure, { ...row, counts: JSON.stringify(row.counts) });
  }

  listErasures(limit: number): Promise<ErasureRow[]> {
    return this.db.all(q.listErasures, { limit });
  }
}
