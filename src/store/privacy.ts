import type { ConsentRecordRow } from "./consent.js";
import type { DeliveryJobRow } from "./delivery.js";
import type { SafeNumberRow } from "./fraud.js";
import type { RiskDecisionRow, SendAttemptRow, VerificationRow } from "./types.js";
import type { WebhookDeliveryRow } from "./webhooks.js";

/**
 * Data-subject requests over the store (privacy/privacy.ts has the rules): everything held about one
 * phone number, found in clear (E.164) or as its keyed token, and its erasure.
 *
 * Where a number lives: `verifications.to_number`, `risk_decisions.to_number` (with the request's IP
 * and tags beside it), `consent_records.to_number`, `safe_numbers.number`; its keyed token (never the
 * number) in limiter and detector counter keys (`rate_limits.key`, `risk_counters.key`) and, once the
 * retention has anonymized a row, in `to_number` as `#` + token. Send attempts, delivery jobs and
 * webhook deliveries hold no number but belong to the number's verifications.
 */
export interface NumberQuery {
  /** E.164. */
  to: string;
  /** The number's keyed token (risk/number-key.ts): what counter keys carry. */
  token: string;
  /** What an anonymized row holds in `to_number` instead of the number (`#` + token). */
  anonymized: string;
}

/** A limiter window (rate_limits) or a detector bucket (risk_counters) whose key names the number's token. */
export interface CounterRow {
  table: "rate_limits" | "risk_counters";
  key: string;
  /** Points taken (limiter) or events counted (detector). */
  value: number;
  /** The limiter window's expiry, or the detector bucket's start (ms). */
  at: number | null;
}

/** Every row held about a number, as stored (secrets such as code hashes and sealed codes included). */
export interface NumberRows {
  verifications: VerificationRow[];
  sendAttempts: SendAttemptRow[];
  deliveryJobs: DeliveryJobRow[];
  decisions: RiskDecisionRow[];
  consentRecords: ConsentRecordRow[];
  safeList: SafeNumberRow[];
  webhookDeliveries: WebhookDeliveryRow[];
  counters: CounterRow[];
}

/** Rows of one table an erasure removed, and rows it kept with the personal data taken out. */
export interface ErasedCount {
  deleted: number;
  anonymized: number;
}

/** The audit of one erasure: who, when, how many rows of which table; never the number. */
export interface ErasureRow {
  /** ER + 32 hex. */
  id: string;
  at: number;
  /** The admin key that asked. */
  actorKeyId: string;
  requestId: string | null;
  counts: Record<string, ErasedCount>;
}

export interface PrivacyStore {
  /** Everything held about the number (in clear or as its token), oldest first within each table. */
  numberRows(q: NumberQuery): Promise<NumberRows>;
  /**
   * Deletes the number's verifications with their send attempts, delivery jobs and webhook deliveries,
   * its consent records and counter rows; keeps its risk decisions (the statistics count them) with the
   * number, IP and tags taken out. In batches of `batch` rows, each its own short write, so a number
   * with a long history never holds the write lock for long; safe to run again after a failure.
   * The safe list is the fraud store's (its cache must hear of the change).
   */
  eraseNumber(q: NumberQuery, batch?: number): Promise<Record<string, ErasedCount>>;
  insertErasure(row: ErasureRow): Promise<void>;
  /** The newest erasures first. */
  listErasures(limit: number): Promise<ErasureRow[]>;
}
