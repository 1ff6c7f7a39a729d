/**
 * The verification store: one interface, chosen in the composition root (SQLite by default,
 * PostgreSQL for scale-out). Every status move is a single conditional write, so the domain never
 * holds a lock across a round trip; each method says which condition guards it.
 */

import type { DeliveryJobBuilder } from "./delivery.js";

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
     * Builds the delivery job for the attempt (the transactional outbox): called inside the transaction
     * with the row the attempt belongs to, and its row inserted there. It must be synchronous; a throw
     * rolls the whole start back (no send counted, nothing delivered).
     */
    job?: DeliveryJobBuilder;
  }): Promise<CreateOrResendResult>;
  /** Guarded: status PENDING, not expired, check_attempts < max. Counts the attempt and approves. */
  approve(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult>;
  /** Guarded like approve; counts a wrong attempt and moves to MAX_ATTEMPTS_REACHED at the limit. */
  recordWrongCheck(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult>;
  /**
   * Guarded: only PENDING rows move. Returns the moved row or null. APPROVED here is an admin's
   * approval without a code (Twilio's `Status=approved` update); a check approves through `approve`.
   */
  setFinalStatus(id: string, status: "CANCELED" | "FAILED" | "EXPIRED" | "APPROVED", now: number): Promise<VerificationRow | null>;
  /** Moves every PENDING row whose TTL passed to EXPIRED and returns them (for events). */
  expireDue(now: number, limit?: number): Promise<VerificationRow[]>;
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

