import type { ConsentRecordRow } from "./consent.js";

/**
 * The verification store: one interface, chosen in the composition root (SQLite by default,
 * PostgreSQL for scale-out). Every status move is a single conditional write, so the domain never
 * holds a lock across a round trip; each method says which condition guards it.
 */

import type { DeliveryJobBuilder } from "./delivery.js";
import type { EventRows } from "./webhooks.js";

export type Channel = "SMS" | "CALL";
export type VerificationStatus = "PENDING" | "APPROVED" | "CANCELED" | "MAX_ATTEMPTS_REACHED" | "EXPIRED" | "FAILED";
export type Role = "ADMIN" | "CLIENT";
export type ProtectionLevel = "BASIC" | "STANDARD" | "MAX";

/** A service's named rate-limit bucket (Twilio's Service Rate Limits). */
export interface RateLimitSpec {
  uniqueName: string;
  buckets: { max: number; intervalSeconds: number; sid?: string; createdAt?: number; updatedAt?: number }[];
  /** RK…, given when written (risk/service-rate-limits.ts derives one for limits written before). */
  sid?: string;
  description?: string | null;
  createdAt?: number;
  updatedAt?: number;
}

/** Per-service risk settings, kept as JSON on the service row so stages can grow without migrations. */
export interface RiskSettings {
  protectionLevel?: ProtectionLevel;
  /** Stage names that record what they would block without blocking. */
  shadowStages?: string[];
  rateLimits?: RateLimitSpec[];
  /** Daily spend budget in US cents; absent = the stage's default. */
  dailyBudgetCents?: number;
  /** Percent of the daily budget MONITOR, new and unconverted destinations may spend; absent = the default (20). */
  cappedSharePercent?: number;
  [key: string]: unknown;
}

export interface ServiceRow {
  id: string;
  friendlyName: string;
  codeLength: number;
  ttlSeconds: number;
  maxCheckAttempts: number;
  maxSendAttempts: number;
  customCodeEnabled: boolean;
  skipSmsToLandlines: boolean;
  smsEnabled: boolean;
  callEnabled: boolean;
  /** Whether verifications show what is known of the number (country, line type). */
  lookupEnabled: boolean;
  /** Whether starts may carry a PSD2 amount and payee. */
  psd2Enabled: boolean;
  /** Whether messages end with the "do not share this code" warning. */
  doNotShareWarningEnabled: boolean;
  smsTemplate: string | null;
  /** Starts must bring consent evidence (CONSENT_REQUIRED otherwise). */
  requireConsent: boolean;
  riskSettings: RiskSettings;
  createdAt: number;
  updatedAt: number;
}

export type ServicePatch = Partial<Omit<ServiceRow, "id" | "createdAt" | "updatedAt">> & { updatedAt: number };

export interface ApiKeyRow {
  id: string;
  keyHash: string;
  role: Role;
  serviceId: string | null;
  name: string | null;
  createdAt: number;
  revokedAt: number | null;
  /** Last successful authentication (coalesced: at most one write a minute per key and instance). */
  lastUsedAt: number | null;
  /** When the key stops working; null = never. */
  expiresAt: number | null;
  /** "ADMIN_API_KEY" for the row that variable created; null for keys made through the API. */
  origin: "ADMIN_API_KEY" | null;
}

export interface VerificationRow {
  id: string;
  serviceId: string;
  to: string;
  channel: Channel;
  status: VerificationStatus;
  codeHash: string;
  codeSeed: string | null;
  locale: string | null;
  amount: string | null;
  payee: string | null;
  countryCode: string | null;
  lineType: string | null;
  checkAttempts: number;
  sendAttempts: number;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
}

export interface SendAttemptRow {
  id: string;
  verificationId: string;
  channel: Channel;
  at: number;
  deliveryStatus: string;
  providerSid: string | null;
  price: string | null;
  priceUnit: string | null;
  errorCode: number | null;
}

export interface RiskDecisionRow {
  id: string;
  serviceId: string;
  verificationId: string | null;
  kind: "START" | "CHECK";
  outcome: "ALLOWED" | "BLOCKED";
  stage: string | null;
  code: string | null;
  errorCode: number | null;
  reason: string | null;
  shadow: string | null;
  to: string | null;
  country: string | null;
  prefix: string | null;
  lineType: string | null;
  ip: string | null;
  channel: string | null;
  tags: string | null;
  converted: boolean;
  /** The send attempt (VL…) an allowed start made; null for checks, blocks and rows from before it was kept. */
  attemptId: string | null;
  createdAt: number;
}

/**
 * A counter increment that must keep its counter within a bound (a rate limit taken in the request's
 * commit, risk/limiter.ts): the commit adds `add` to the counter (key, bucket) and fails with
 * {@link CommitRefused} when the counter then holds more than `max`. The test and the increment are one
 * statement under the writer's lock (SQLite) or the row's lock (PostgreSQL's upsert), so concurrent
 * commits cannot pass the bound together. `add` may be 0: the bound is then tested (as for `max + 0`)
 * and nothing taken.
 */
export interface BoundedCount {
  key: string;
  bucket: number;
  add: number;
  max: number;
}

/**
 * What a request's risk stages and observers need written. Stages decide from what they read and
 * return their writes instead of writing (risk/types.ts): the lifecycle commits them with the request
 * in one transaction ({@link Store.commitStart}, {@link Store.commitCheck}, {@link Store.commitDecision}).
 * A stage that needs a new kind of write adds a field here and its application in the store's commit
 * (`applyWrites` in store/queries/store.ts).
 *
 * The limits and the spend budget are gates: each write says what bound it must keep, and a commit
 * that would break one writes nothing and throws {@link CommitRefused} (the request is then decided
 * again on fresh reads: risk/pipeline.ts's `decide`).
 */
export interface RiskWrites {
  /**
   * Window-counter events at the request's time (risk/window-counter.ts; a key listed twice counts
   * twice). Committed here only when the counters live in this database; the lifecycle sends them to
   * Redis after the commit otherwise.
   */
  counts: string[];
  /**
   * Rate limits taken by the request (in the counters' table, with the counts). `failedOnly` marks a
   * check's wrong-guess limits: a check that turns out to be no failed attempt commits them with
   * `add` 0 (tested, not taken: risk/types.ts's `asNotFailure`).
   */
  limits?: (BoundedCount & { failedOnly?: boolean })[];
  /**
   * Spend charged with the send. With `within`, a reservation: charged only if the day's spend stays
   * within the budget and, for a send of the capped share, the capped share's within its cap (else
   * {@link CommitRefused}); without, charged unconditionally (a send the spend stage in shadow mode
   * let through). To the capped share too when `capped`.
   */
  spend?: { serviceId: string; day: string; usdMicros: number; capped?: boolean; within?: { budgetMicros: number; capMicros: number | null } };
}

/**
 * A commit that would break a gate of its {@link RiskWrites} (a rate limit or the spend budget that
 * other requests used up since the request read them). Nothing of it was written.
 */
export class CommitRefused extends Error {
  override name = "CommitRefused";
  constructor(readonly gate: "limits" | "spend") {
    super(`the request's ${gate} were taken by other requests before it committed`);
  }
}

/** Result of {@link Store.createOrResend}. */
export type CreateOrResendResult =
  | { kind: "created"; verification: VerificationRow; attempt: SendAttemptRow }
  | { kind: "resent"; verification: VerificationRow; attempt: SendAttemptRow }
  | { kind: "max_sends"; verification: VerificationRow };

/** Result of a check's atomic write. */
export type CheckWriteResult =
  | { kind: "approved"; verification: VerificationRow }
  | { kind: "wrong"; verification: VerificationRow }
  /** The guarded update matched nothing: the row is no longer checkable (raced, final or expired). */
  | { kind: "not_pending"; verification: VerificationRow | null };

export interface Store {
  readonly dialect: "sqlite" | "postgres";

  // services
  insertService(row: ServiceRow): Promise<void>;
  updateService(id: string, patch: ServicePatch): Promise<ServiceRow | null>;
  deleteService(id: string): Promise<boolean>;
  getService(id: string): Promise<ServiceRow | null>;
  listServices(): Promise<ServiceRow[]>;

  // api keys
  insertApiKey(row: ApiKeyRow): Promise<void>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | null>;
  countAdminKeys(): Promise<number>;
  listApiKeys(serviceId?: string): Promise<ApiKeyRow[]>;
  revokeApiKey(id: string, at: number): Promise<boolean>;
  getApiKey(id: string): Promise<ApiKeyRow | null>;
  /** Records a successful authentication (callers coalesce: not a write per request). */
  touchApiKey(id: string, at: number): Promise<void>;

  // verifications
  getVerification(id: string): Promise<VerificationRow | null>;
  /** The PENDING verification for (service, to), expired or not. */
  findPending(serviceId: string, to: string): Promise<VerificationRow | null>;
  /**
   * The newest verification for (service, to), whatever its status. A check by `to` that finds no
   * PENDING row uses it to answer 60202 (attempt limit hit) rather than 20404, as Twilio does.
   */
  findLatest(serviceId: string, to: string): Promise<VerificationRow | null>;
  /**
   * In one transaction: expire a PENDING row for (service, to) whose TTL passed; then either add a send
   * attempt to the live PENDING row (guarded by `send_attempts < maxSendAttempts`) or insert `fresh`.
   * The partial unique index on PENDING (service, to) makes concurrent starts collapse into one row.
   */
  createOrResend(input: {
    fresh: VerificationRow;
    attempt: SendAttemptRow;
    maxSendAttempts: number;
    now: number;
    /**
     * The caller saw no PENDING row for (service, to): try the plain insert first (guarded by the
     * partial unique index), and only when another start won the race look for the live row.
     */
    noPendingSeen?: boolean;
    /**
     * Builds the delivery job for the attempt (the transactional outbox): called inside the transaction
     * with the row the attempt belongs to, and its row inserted there. It must be synchronous; a throw
     * rolls the whole start back (no send counted, nothing delivered).
     */
    job?: DeliveryJobBuilder;
    /**
     * The webhook deliveries of the CREATED / RESENT event, built from the result and committed with
     * the send (the event outbox: store/webhooks.ts's EventRows). So are `events` of every write below.
     */
    events?: EventRows<CreateOrResendResult>;
  }): Promise<CreateOrResendResult>;
  /**
   * A start, in one transaction: {@link createOrResend}, then the decision row (`sent`, or `capped`
   * when the send cap refused it; its verificationId set to the verification's), the consent record
   * the start brought (linked to the verification: a code is never queued without its evidence) and,
   * when a code is sent, the risk writes.
   */
  commitStart(
    input: Parameters<Store["createOrResend"]>[0] & { decision: { sent: RiskDecisionRow; capped: RiskDecisionRow }; writes: RiskWrites; consent?: ConsentRecordRow | null },
  ): Promise<CreateOrResendResult>;
  /**
   * A check of a live verification, in one transaction: the guarded write ({@link approve} when
   * `matched`, else {@link recordWrongCheck}), the decision row, {@link markConverted} when approved,
   * and the risk writes: `approved` when it approved, `writes` when it counted a wrong code. When the
   * guarded write matched nothing (the row is no longer checkable: raced, final or expired), nothing is
   * written and the row as it is now comes back (`not_pending`): the caller records that check itself.
   */
  commitCheck(input: {
    id: string;
    matched: boolean;
    maxCheckAttempts: number;
    now: number;
    decision: RiskDecisionRow;
    writes: RiskWrites;
    approved: RiskWrites;
    /** Of the row the guarded write moved (APPROVED, a wrong check, MAX_ATTEMPTS_REACHED). */
    events?: EventRows<VerificationRow>;
  }): Promise<CheckWriteResult>;
  /**
   * A request that moves no verification (blocked, or nothing to check): its decision row and risk
   * writes, in one transaction; `events` of the decision (RISK_BLOCKED).
   */
  commitDecision(decision: RiskDecisionRow, writes: RiskWrites, events?: EventRows<RiskDecisionRow>): Promise<void>;
  /** Guarded: status PENDING, not expired, check_attempts < max. Counts the attempt and approves. */
  approve(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult>;
  /** Guarded like approve; counts a wrong attempt and moves to MAX_ATTEMPTS_REACHED at the limit. */
  recordWrongCheck(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult>;
  /**
   * Guarded: only PENDING rows move. Returns the moved row or null. APPROVED here is an admin's
   * approval without a code (Twilio's `Status=approved` update); a check approves through `approve`.
   */
  setFinalStatus(id: string, status: "CANCELED" | "FAILED" | "EXPIRED" | "APPROVED", now: number, events?: EventRows<VerificationRow>): Promise<VerificationRow | null>;
  /** Moves every PENDING row whose TTL passed to EXPIRED and returns them (for events). */
  expireDue(now: number, limit?: number, events?: EventRows<VerificationRow>): Promise<VerificationRow[]>;
  listSendAttempts(verificationId: string): Promise<SendAttemptRow[]>;
  findSendAttemptByProviderSid(providerSid: string): Promise<SendAttemptRow | null>;

  // risk decisions
  insertDecision(row: RiskDecisionRow): Promise<void>;
  /** Marks the START decisions of a verification as converted (Twilio's conversion_status). */
  markConverted(verificationId: string): Promise<void>;

  // instance settings
  /**
   * The value stored under `key`, storing `value` first when there is none. Concurrent callers (other
   * instances starting at the same time) all get the one value that won.
   */
  ensureSetting(key: string, value: string): Promise<string>;

  /** Runs a raw health probe (SELECT 1). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

