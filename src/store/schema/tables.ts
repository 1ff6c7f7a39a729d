import { bool, int, int64, json, real, rowOrder, table, text } from "./define.js";

/**
 * The schema, written once for both databases (define.ts says what each column kind becomes where).
 * drizzle's tables for drizzle-kit and the migrators are derived from it (sqlite.ts, pg.ts), and so
 * are the query modules' select lists and row mappers. Times are integer milliseconds since the epoch
 * (from the injected clock); money is integer micro-dollars.
 */

const CHANNELS = ["SMS", "CALL"] as const;

export const services = table("services", {
  id: text("id").primaryKey(),
  friendlyName: text("friendly_name").notNull(),
  codeLength: int("code_length").notNull(),
  ttlSeconds: int("ttl_seconds").notNull(),
  maxCheckAttempts: int("max_check_attempts").notNull(),
  maxSendAttempts: int("max_send_attempts").notNull(),
  customCodeEnabled: bool("custom_code_enabled").notNull(),
  skipSmsToLandlines: bool("skip_sms_to_landlines").notNull(),
  smsEnabled: bool("sms_enabled").notNull().default(true),
  callEnabled: bool("call_enabled").notNull().default(true),
  /** Whether verifications answer with what is known of the number (Twilio's lookup_enabled). */
  lookupEnabled: bool("lookup_enabled").notNull().default(true),
  /** Whether starts may carry a PSD2 amount and payee (Twilio's psd2_enabled). */
  psd2Enabled: bool("psd2_enabled").notNull().default(false),
  /** Whether messages end with the "do not share this code" warning (Twilio's do_not_share_warning_enabled). */
  doNotShareWarningEnabled: bool("do_not_share_warning_enabled").notNull().default(true),
  /** Service-specific message template with {code}, {friendlyName}, {ttlMinutes}; null = built-in. */
  smsTemplate: text("sms_template"),
  /** Starts without consent evidence are refused (CONSENT_REQUIRED). */
  requireConsent: bool("require_consent").notNull().default(false),
  /** JSON: risk settings (protection level, shadow stages, rate-limit buckets, budget). Shape in store/types.ts. */
  riskSettings: json("risk_settings").notNull().default({}),
  createdAt: int64("created_at").notNull(),
  updatedAt: int64("updated_at").notNull(),
});

export const apiKeys = table(
  "api_keys",
  {
    id: text("id").primaryKey(),
    /** SHA-256 of the key: keys are high-entropy random strings, so a fast hash is enough. */
    keyHash: text("key_hash").notNull(),
    role: text("role", ["ADMIN", "CLIENT"]).notNull(),
    serviceId: text("service_id").references(() => services, "id", { onDelete: "cascade" }),
    name: text("name"),
    createdAt: int64("created_at").notNull(),
    revokedAt: int64("revoked_at"),
    /** Last successful authentication, written at most once a minute per key and instance. */
    lastUsedAt: int64("last_used_at"),
    /** When the key stops working; null = never. */
    expiresAt: int64("expires_at"),
    /** "ADMIN_API_KEY" for the row that variable created (revoked when the variable changes). */
    origin: text("origin", ["ADMIN_API_KEY"]),
  },
  (t) => t.uniqueIndex("api_keys_hash_idx", ["keyHash"]),
);

export const verifications = table(
  "verifications",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services, "id", { onDelete: "cascade" }),
    to: text("to_number").notNull(),
    channel: text("channel", CHANNELS).notNull(),
    status: text("status", ["PENDING", "APPROVED", "CANCELED", "MAX_ATTEMPTS_REACHED", "EXPIRED", "FAILED"]).notNull(),
    /** HMAC-SHA256(CODE_SECRET, verificationId + ":" + code), hex. The code itself is never stored. */
    codeHash: text("code_hash").notNull(),
    /**
     * 128 random bits from the CSPRNG; the code is PRF(CODE_SECRET, seed), so a resend can send the
     * same code again without the code being stored. Null for custom codes (the caller holds those).
     */
    codeSeed: text("code_seed"),
    locale: text("locale"),
    /** PSD2 dynamic linking: the pair the check must present again. */
    amount: text("amount"),
    payee: text("payee"),
    countryCode: text("country_code"),
    lineType: text("line_type"),
    checkAttempts: int("check_attempts").notNull().default(0),
    sendAttempts: int("send_attempts").notNull().default(1),
    expiresAt: int64("expires_at").notNull(),
    createdAt: int64("created_at").notNull(),
    updatedAt: int64("updated_at").notNull(),
    /** Breaks ties between verifications created in the same millisecond (findLatest). */
    seq: rowOrder("seq"),
  },
  (t) => {
    // At most one PENDING verification per (service, number): concurrent starts collapse into one.
    t.uniqueIndex("verifications_pending_idx", ["serviceId", "to"], { where: "status = 'PENDING'" });
    t.index("verifications_expiry_idx", ["status", "expiresAt"]);
    t.index("verifications_to_idx", ["serviceId", "to", "createdAt"]);
  },
);

export const sendAttempts = table(
  "send_attempts",
  {
    id: text("id").primaryKey(),
    verificationId: text("verification_id").notNull().references(() => verifications, "id", { onDelete: "cascade" }),
    channel: text("channel", CHANNELS).notNull(),
    at: int64("at").notNull(),
    /** queued | sent | delivered | undelivered | failed (from the channel and its callbacks). */
    deliveryStatus: text("delivery_status").notNull().default("queued"),
    providerSid: text("provider_sid"),
    price: text("price"),
    priceUnit: text("price_unit"),
    errorCode: int("error_code"),
    /** Sends made in the same millisecond list in the order they were made (ids are random). */
    seq: rowOrder("seq"),
  },
  (t) => {
    t.index("send_attempts_verification_idx", ["verificationId"]);
    t.index("send_attempts_provider_idx", ["providerSid"]);
  },
);

/**
 * The transactional outbox: one job per send attempt, written in the same transaction as the attempt
 * and claimed by the delivery worker with a lease (shape and life cycle in store/delivery.ts).
 */
export const deliveryJobs = table(
  "delivery_jobs",
  {
    id: text("id").primaryKey(),
    verificationId: text("verification_id").notNull().references(() => verifications, "id", { onDelete: "cascade" }),
    sendAttemptId: text("send_attempt_id").notNull().references(() => sendAttempts, "id", { onDelete: "cascade" }),
    channel: text("channel", CHANNELS).notNull(),
    status: text("status", ["pending", "sending", "sent", "failed", "canceled"]).notNull(),
    locale: text("locale"),
    /** The name this send uses instead of the service's (a start's customFriendlyName); null = the service's. */
    friendlyName: text("friendly_name"),
    /** AES-256-GCM sealed code (key derived from CODE_SECRET); null once the job is final. */
    sealedCode: text("sealed_code"),
    attempts: int("attempts").notNull().default(0),
    runAt: int64("run_at").notNull(),
    leaseOwner: text("lease_owner"),
    leaseUntil: int64("lease_until"),
    providerSid: text("provider_sid"),
    errorCode: int("error_code"),
    lastError: text("last_error"),
    /** The request that started the send (X-Request-Id): its logs, the worker's and the callbacks' share it. */
    requestId: text("request_id"),
    createdAt: int64("created_at").notNull(),
    updatedAt: int64("updated_at").notNull(),
  },
  (t) => {
    // The worker's claim scans by (status, run_at) for pending jobs and (status, lease_until) for stale leases.
    t.index("delivery_jobs_due_idx", ["status", "runAt"]);
    t.index("delivery_jobs_lease_idx", ["status", "leaseUntil"]);
    t.uniqueIndex("delivery_jobs_attempt_idx", ["sendAttemptId"]);
    t.index("delivery_jobs_verification_idx", ["verificationId"]);
  },
);

/**
 * One row per request that went through the risk pipeline: the decision log that fraud statistics,
 * `verificationAttempts` and the summary are computed from.
 */
export const riskDecisions = table(
  "risk_decisions",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull(),
    verificationId: text("verification_id"),
    kind: text("kind", ["START", "CHECK"]).notNull(),
    outcome: text("outcome", ["ALLOWED", "BLOCKED"]).notNull(),
    /** The stage that blocked (or null when allowed). */
    stage: text("stage"),
    code: text("code"),
    errorCode: int("error_code"),
    reason: text("reason"),
    /** What a stage in shadow mode would have done: "stage:CODE:reason", or null. */
    shadow: text("shadow"),
    to: text("to_number"),
    country: text("country"),
    prefix: text("prefix"),
    lineType: text("line_type"),
    ip: text("ip"),
    channel: text("channel"),
    tags: text("tags"),
    /** Set once the verification this start created or resent was approved (Twilio's conversion_status). */
    converted: bool("converted").notNull().default(false),
    /** The send attempt (VL…) an allowed start made: Twilio's verification attempt sid. */
    attemptId: text("attempt_id"),
    createdAt: int64("created_at").notNull(),
  },
  (t) => {
    // The attempts log pages newest first by (created_at, id) (keyset, never OFFSET): every index a
    // filter can use ends in those two columns, so a page is one index range read in order.
    t.index("risk_decisions_created_idx", ["createdAt", "id"]);
    t.index("risk_decisions_service_idx", ["serviceId", "createdAt", "id"]);
    t.index("risk_decisions_verification_idx", ["verificationId"]);
    t.index("risk_decisions_attempt_idx", ["attemptId"], { where: "attempt_id is not null" });
    t.index("risk_decisions_to_idx", ["to", "createdAt", "id"]);
    t.index("risk_decisions_outcome_idx", ["serviceId", "outcome", "createdAt", "id"]);
    t.index("risk_decisions_country_idx", ["serviceId", "country", "createdAt", "id"]);
    // Only blocked rows have a stage and an error code: partial indexes stay small, so they can be
    // global (an admin searching every service for 60410) and still serve one service's search.
    t.index("risk_decisions_stage_idx", ["stage", "createdAt", "id"], { where: "stage is not null" });
    t.index("risk_decisions_error_code_idx", ["errorCode", "createdAt", "id"], { where: "error_code is not null" });
  },
);

/**
 * Counters of risk_decisions per time bucket, so fraud statistics read a few thousand rows instead of
 * the whole log (store/stats.ts says how queries combine them). Kept by triggers (store/rollups.ts
 * defines the counting rules; the trigger DDL of both databases is generated from it) in the same
 * transaction as each insert and each `converted` change, so no code path can forget them. The log is
 * append-only; deleting decisions would need matching triggers.
 * Key columns use '' and 0 for "none": NULLs never collide in a unique key, which would break the upsert.
 * On SQLite both roll-up tables are WITHOUT ROWID, which drizzle-kit cannot express: a future migration
 * that rebuilds one of them must keep that (see drizzle/sqlite/*_rollups_without_rowid.sql).
 */
const rollupCounters = () => ({
  /** Decisions (starts and checks). */
  decisions: int("decisions").notNull().default(0),
  allowed: int("allowed").notNull().default(0),
  /** Allowed starts: each sent a code. */
  sends: int("sends").notNull().default(0),
  checks: int("checks").notNull().default(0),
  /** Blocked starts, except invalid input (60200, never a send): sends the guard prevented. */
  prevented: int("prevented").notNull().default(0),
  /** Sends whose verification was approved later. */
  converted: int("converted").notNull().default(0),
  /** Approved verifications, counted once, at their first send. */
  approvals: int("approvals").notNull().default(0),
  /** Allowed decisions a stage in shadow mode would have blocked. */
  shadowed: int("shadowed").notNull().default(0),
});

/** The dimensions a roll-up row is keyed by besides service and time ('' and 0 for "none"). */
const rollupDimensions = () => ({
  country: text("country").notNull(),
  channel: text("channel").notNull(),
  /** The stage that blocked. */
  stage: text("stage").notNull(),
  errorCode: int("error_code").notNull(),
});

/** Per service, hour (span HOUR) or UTC day (span DAY), country, channel, blocking stage and error code. */
export const riskRollups = table(
  "risk_rollups",
  {
    span: text("span", ["HOUR", "DAY"]).notNull(),
    /** Start of the hour or day, milliseconds since the epoch (UTC). */
    bucket: int64("bucket").notNull(),
    serviceId: text("service_id").notNull(),
    ...rollupDimensions(),
    ...rollupCounters(),
  },
  (t) => {
    // SQLite: WITHOUT ROWID (migration `rollups_without_rowid`): the rows are the primary key's B-tree,
    // so a range of buckets is read in one sequential pass with its counters, and a query over every
    // service reads one key range per service (store/queries/stats.ts), with no index on the bucket.
    t.primaryKey(["span", "serviceId", "bucket", "country", "channel", "stage", "errorCode"], "risk_rollups_pk");
    // PostgreSQL keeps rows in a heap (no WITHOUT ROWID); the statistics read one primary-key range
    // per service there too, and this index serves ad-hoc reads of a time range.
    t.index("risk_rollups_bucket_idx", ["span", "bucket"], { only: "postgres" });
  },
);

/**
 * Per service, UTC day and number prefix. Prefixes are many, so they are rolled up per day only
 * (an hourly prefix table would be nearly as large as the log itself).
 */
export const riskPrefixRollups = table(
  "risk_prefix_rollups",
  {
    /** Start of the UTC day, milliseconds since the epoch. */
    day: int64("day").notNull(),
    serviceId: text("service_id").notNull(),
    prefix: text("prefix").notNull(),
    ...rollupDimensions(),
    ...rollupCounters(),
  },
  (t) => {
    // WITHOUT ROWID on SQLite, as risk_rollups.
    t.primaryKey(["serviceId", "day", "prefix", "country", "channel", "stage", "errorCode"], "risk_prefix_rollups_pk");
    // PostgreSQL: a time range through an index (see risk_rollups_bucket_idx).
    t.index("risk_prefix_rollups_day_idx", ["day"], { only: "postgres" });
    // Top blocked prefixes read blocked rows only: a small partial index.
    t.index("risk_prefix_rollups_blocked_idx", ["serviceId", "day"], { where: "stage <> ''" });
  },
);

/** Admin prices replacing the shipped defaults of risk/prices.ts (integer micro-dollars). */
export const priceOverrides = table(
  "price_overrides",
  {
    /** ISO 3166-1 alpha-2, or "*" for the fallback price. */
    country: text("country").notNull(),
    channel: text("channel", CHANNELS).notNull(),
    usdMicros: int64("usd_micros").notNull(),
    updatedAt: int64("updated_at").notNull(),
  },
  (t) => t.primaryKey(["country", "channel"]),
);

/** Estimated spend per service per UTC day, charged by the spend guard (integer micro-dollars). */
export const spendDaily = table(
  "spend_daily",
  {
    serviceId: text("service_id").notNull(),
    /** UTC day, YYYY-MM-DD. */
    day: text("day").notNull(),
    usdMicros: int64("usd_micros").notNull().default(0),
    sends: int("sends").notNull().default(0),
    /**
     * The part of the above that drew on the capped share (MONITOR destinations without a healthy
     * history, new and unconverted ones: risk/stages/spend-guard.ts); the rest is the protected share's.
     */
    cappedUsdMicros: int64("capped_usd_micros").notNull().default(0),
    cappedSends: int("capped_sends").notNull().default(0),
    updatedAt: int64("updated_at").notNull(),
  },
  (t) => t.primaryKey(["serviceId", "day"]),
);

/**
 * Limiter counters when REDIS_URL is unset, in the shape rate-limiter-flexible's RateLimiterSQLite
 * and RateLimiterPostgres read and write (created here, not by the library, so migrations own the
 * schema: `tableCreated: true`; the PostgreSQL limiter's INSERT lists no columns, so the order key,
 * points, expire matters). `expire` is wall-clock milliseconds after which a row may be swept.
 */
export const rateLimits = table(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    points: int("points").notNull().default(0),
    expire: int64("expire"),
  },
  (t) => t.index("rate_limits_expire_idx", ["expire"]),
);

/** Numbers an admin trusts: they skip the fraud stages (never the limits). Account-wide, like Twilio's Safe List. */
export const safeNumbers = table("safe_numbers", {
  /** E.164. */
  number: text("number").primaryKey(),
  note: text("note"),
  createdAt: int64("created_at").notNull(),
});

/**
 * Admins' geo permissions per service, destination country and channel. Only choices are stored:
 * a missing row means the default of risk/geo-defaults.ts (BLOCK for the high-risk list, else MONITOR).
 */
export const geoPermissions = table(
  "geo_permissions",
  {
    serviceId: text("service_id").notNull().references(() => services, "id", { onDelete: "cascade" }),
    /** ISO 3166-1 alpha-2, or "001" for non-geographic numbers. */
    country: text("country").notNull(),
    channel: text("channel", CHANNELS).notNull(),
    permission: text("permission", ["BLOCK", "MONITOR", "ALLOW"]).notNull(),
    updatedAt: int64("updated_at").notNull(),
  },
  (t) => t.primaryKey(["serviceId", "country", "channel"]),
);

/** Blocked number prefixes, global or per service, set by admins (MANUAL) or the pumping detector (AUTO). */
export const blockedPrefixes = table(
  "blocked_prefixes",
  {
    /**
     * The service id, or "*" for a global block. A NOT NULL key column because NULLs never collide in
     * a unique index (in SQLite and PostgreSQL alike), which would allow duplicate global entries.
     */
    scope: text("scope").notNull(),
    /** The same service id (null when global), kept for the cascade on service deletion. */
    serviceId: text("service_id").references(() => services, "id", { onDelete: "cascade" }),
    prefix: text("prefix").notNull(),
    /**
     * '' for a block of every number under the prefix; an ISO country for a country's block, whose
     * prefix is then the country's calling code (+1 holds the US, Canada and more: each is its own row).
     */
    country: text("country").notNull().default(""),
    source: text("source", ["MANUAL", "AUTO"]).notNull(),
    reason: text("reason").notNull(),
    /** AUTO blocks' evidence: the level (PREFIX, RANGE, COUNTRY), the rule and its figures (JSON); null on MANUAL ones. */
    level: text("level", ["PREFIX", "RANGE", "COUNTRY"]),
    rule: text("rule"),
    figures: json("figures"),
    createdAt: int64("created_at").notNull(),
    updatedAt: int64("updated_at").notNull(),
    /** null = until lifted. */
    expiresAt: int64("expires_at"),
  },
  (t) => {
    t.primaryKey(["scope", "prefix", "country"]);
    t.index("blocked_prefixes_prefix_idx", ["prefix"]);
  },
);

/**
 * Sliding-window event counters of the fraud detectors (risk/window-counter.ts): one row per key and
 * time bucket. Swept by age; a Redis implementation replaces this table for scale-out.
 */
export const riskCounters = table(
  "risk_counters",
  {
    key: text("key").notNull(),
    /** Bucket start, milliseconds since the epoch. */
    bucket: int64("bucket").notNull(),
    n: int("n").notNull(),
  },
  (t) => {
    t.primaryKey(["key", "bucket"]);
    t.index("risk_counters_bucket_idx", ["bucket"]);
  },
);

/**
 * Approval-token signing keys (verification/approval-tokens.ts), shared by every instance. One row per
 * rotation period, named by when it starts signing; the private key is sealed under a key derived
 * from CODE_SECRET, so a dump of the database signs nothing.
 */
export const approvalKeys = table(
  "approval_keys",
  {
    kid: text("kid").primaryKey(),
    alg: text("alg").notNull(),
    /** The public JWK (JSON), as `/.well-known/jwks.json` serves it. */
    publicJwk: text("public_jwk").notNull(),
    /** The private JWK, AES-256-GCM sealed (delivery/seal.ts's scheme, its own key), the kid as AAD. */
    sealedPrivateJwk: text("sealed_private_jwk").notNull(),
    /** From when it signs; the key with the latest `activates_at` not in the future is current. */
    activatesAt: int64("activates_at").notNull(),
    createdAt: int64("created_at").notNull(),
  },
  (t) => t.index("approval_keys_activates_idx", ["activatesAt"]),
);

/** Approval tokens redeemed (`redeemApprovalToken`): a token's jti once, kept until the token expires. */
export const approvalRedemptions = table(
  "approval_redemptions",
  {
    jti: text("jti").primaryKey(),
    serviceId: text("service_id").notNull(),
    redeemedAt: int64("redeemed_at").notNull(),
    expiresAt: int64("expires_at").notNull(),
  },
  (t) => t.index("approval_redemptions_expires_idx", ["expiresAt"]),
);

/** Instance-wide values created once and shared by every instance (e.g. the Twilio-style account SID). */
export const instanceSettings = table("instance_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/**
 * Evidence of opt-in consent (store/consent.ts): one row per consent event a start brought. No foreign
 * keys: evidence outlives a deleted service or a purged verification, until its own retention
 * (CONSENT_RETENTION_DAYS) or an erasure by number (hence the index that leads with the number).
 */
export const consentRecords = table(
  "consent_records",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull(),
    verificationId: text("verification_id"),
    to: text("to_number").notNull(),
    textVersion: text("text_version").notNull(),
    agreedAt: int64("agreed_at").notNull(),
    userAgent: text("user_agent"),
    ip: text("ip"),
    createdAt: int64("created_at").notNull(),
  },
  (t) => {
    t.index("consent_records_to_idx", ["to", "createdAt", "id"]);
    t.index("consent_records_created_idx", ["createdAt", "id"]);
  },
);

/**
 * One row: a number bumped by every change to the configuration instances cache in process
 * (services, API keys, the safe list, geo permissions, blocked prefixes, prices). Each instance reads
 * it a few times a second and drops its cache when it moved (store/config-cache.ts).
 */
export const configVersion = table("config_version", {
  id: int("id").primaryKey(),
  version: int64("version").notNull(),
});

/** A service's outbound webhook (webhooks/webhooks.ts): where, which events, and its sealed signing secret. */
export const serviceWebhooks = table("service_webhooks", {
  serviceId: text("service_id").primaryKey().references(() => services, "id", { onDelete: "cascade" }),
  url: text("url").notNull(),
  /** WebhookEvent names, JSON array. */
  events: text("events").notNull(),
  /** The `whsec_` secret, AES-256-GCM sealed under a key derived from CODE_SECRET, the service id as AAD. */
  sealedSecret: text("sealed_secret").notNull(),
  createdAt: int64("created_at").notNull(),
  updatedAt: int64("updated_at").notNull(),
});

/**
 * The webhook outbox: one row per event to send, claimed under a lease like delivery jobs (shape and
 * life cycle in store/webhooks.ts).
 */
export const webhookDeliveries = table(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services, "id", { onDelete: "cascade" }),
    /** Deliveries with one key go out one at a time, in `seq` order (a verification's events). */
    orderKey: text("order_key").notNull(),
    seq: int64("seq").notNull(),
    eventType: text("event_type").notNull(),
    payload: text("payload").notNull(),
    status: text("status", ["pending", "sending", "delivered", "failed"]).notNull(),
    attempts: int("attempts").notNull().default(0),
    runAt: int64("run_at").notNull(),
    leaseOwner: text("lease_owner"),
    leaseUntil: int64("lease_until"),
    lastStatus: int("last_status"),
    lastError: text("last_error"),
    requestId: text("request_id"),
    createdAt: int64("created_at").notNull(),
    updatedAt: int64("updated_at").notNull(),
  },
  (t) => {
    t.index("webhook_deliveries_due_idx", ["status", "runAt"]);
    t.index("webhook_deliveries_lease_idx", ["status", "leaseUntil"]);
    t.index("webhook_deliveries_order_idx", ["orderKey", "seq"]);
    t.index("webhook_deliveries_service_idx", ["serviceId", "seq"]);
  },
);

/**
 * Delivery-rate alerts (alerts/delivery-alerts.ts): a drop of a service × country × channel rate
 * against its 7-day baseline, raised once and cleared on recovery. `open_key` is set while the alert
 * is open and unique, so instances evaluating at once raise it once; cleared alerts keep their figures.
 */
export const deliveryAlerts = table(
  "delivery_alerts",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services, "id", { onDelete: "cascade" }),
    country: text("country").notNull(),
    channel: text("channel").notNull(),
    metric: text("metric", ["DELIVERED_RATE", "APPROVED_RATE"]).notNull(),
    openKey: text("open_key"),
    raisedAt: int64("raised_at").notNull(),
    resolvedAt: int64("resolved_at"),
    sends: int("sends").notNull(),
    rate: real("rate").notNull(),
    baseline: real("baseline").notNull(),
    baselineSends: int("baseline_sends").notNull(),
    recoveredRate: real("recovered_rate"),
    recoveredSends: int("recovered_sends"),
  },
  (t) => {
    t.uniqueIndex("delivery_alerts_open_idx", ["openKey"]);
    t.index("delivery_alerts_service_idx", ["serviceId", "raisedAt"]);
  },
);

/**
 * The audit of erasures (privacy/privacy.ts): who erased a number, when, and how many rows of each
 * table were deleted or anonymized. Never the number, nor its keyed token: the audit must not become
 * the one place that still says whose data it was.
 */
export const erasures = table(
  "erasures",
  {
    /** ER + 32 hex. */
    id: text("id").primaryKey(),
    at: int64("at").notNull(),
    /** The admin API key that asked (VK…). */
    actorKeyId: text("actor_key_id").notNull(),
    /** The request that asked (X-Request-Id), to find its log lines. */
    requestId: text("request_id"),
    /** JSON: `{ table: { deleted, anonymized } }`. */
    counts: json("counts").notNull(),
  },
  (t) => t.index("erasures_at_idx", ["at"]),
);

/**
 * Background jobs that one instance at a time may run (retention/purger.ts): a lease row per job, the
 * last run's report (what `/readyz` and `storeStatus` show), and where the next run resumes.
 */
export const maintenance = table("maintenance", {
  /** The job, e.g. "purger". */
  name: text("name").primaryKey(),
  /** The instance holding the lease, while it runs. */
  owner: text("owner"),
  leaseUntil: int64("lease_until"),
  /** JSON: the last finished run (times, rows per table, space returned). */
  lastRun: json("last_run"),
  /** JSON: the job's own bookmarks (the purger's anonymization watermarks per service). */
  state: json("state").notNull().default({}),
  updatedAt: int64("updated_at").notNull(),
});
