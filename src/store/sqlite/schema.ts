import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * SQLite schema (the embedded default). `src/store/pg/schema.ts` mirrors it for PostgreSQL:
 * drizzle has no dialect-neutral schema, so a column added here is added there too.
 * Times are integer milliseconds since the epoch (from the injected clock).
 */

export const services = sqliteTable("services", {
  id: text("id").primaryKey(),
  friendlyName: text("friendly_name").notNull(),
  codeLength: integer("code_length").notNull(),
  ttlSeconds: integer("ttl_seconds").notNull(),
  maxCheckAttempts: integer("max_check_attempts").notNull(),
  maxSendAttempts: integer("max_send_attempts").notNull(),
  customCodeEnabled: integer("custom_code_enabled", { mode: "boolean" }).notNull(),
  skipSmsToLandlines: integer("skip_sms_to_landlines", { mode: "boolean" }).notNull(),
  smsEnabled: integer("sms_enabled", { mode: "boolean" }).notNull().default(true),
  callEnabled: integer("call_enabled", { mode: "boolean" }).notNull().default(true),
  /** Service-specific message template with {code}, {friendlyName}, {ttlMinutes}; null = built-in. */
  smsTemplate: text("sms_template"),
  /** JSON: risk settings (protection level, shadow stages, rate-limit buckets, budget). Shape in store/types.ts. */
  riskSettings: text("risk_settings").notNull().default("{}"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    /** SHA-256 of the key: keys are high-entropy random strings, so a fast hash is enough. */
    keyHash: text("key_hash").notNull(),
    role: text("role", { enum: ["ADMIN", "CLIENT"] }).notNull(),
    serviceId: text("service_id").references(() => services.id, { onDelete: "cascade" }),
    name: text("name"),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_idx").on(t.keyHash)],
);

export const verifications = sqliteTable(
  "verifications",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    to: text("to_number").notNull(),
    channel: text("channel", { enum: ["SMS", "CALL"] }).notNull(),
    status: text("status", {
      enum: ["PENDING", "APPROVED", "CANCELED", "MAX_ATTEMPTS_REACHED", "EXPIRED", "FAILED"],
    }).notNull(),
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
    checkAttempts: integer("check_attempts").notNull().default(0),
    sendAttempts: integer("send_attempts").notNull().default(1),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // At most one PENDING verification per (service, number): concurrent starts collapse into one.
    uniqueIndex("verifications_pending_idx")
      .on(t.serviceId, t.to)
      .where(sql`status = 'PENDING'`),
    index("verifications_expiry_idx").on(t.status, t.expiresAt),
    index("verifications_to_idx").on(t.serviceId, t.to, t.createdAt),
  ],
);

export const sendAttempts = sqliteTable(
  "send_attempts",
  {
    id: text("id").primaryKey(),
    verificationId: text("verification_id")
      .notNull()
      .references(() => verifications.id, { onDelete: "cascade" }),
    channel: text("channel", { enum: ["SMS", "CALL"] }).notNull(),
    at: integer("at").notNull(),
    /** queued | sent | delivered | undelivered | failed (from the channel and its callbacks). */
    deliveryStatus: text("delivery_status").notNull().default("queued"),
    providerSid: text("provider_sid"),
    price: text("price"),
    priceUnit: text("price_unit"),
    errorCode: integer("error_code"),
  },
  (t) => [index("send_attempts_verification_idx").on(t.verificationId), index("send_attempts_provider_idx").on(t.providerSid)],
);

/**
 * The transactional outbox: one job per send attempt, written in the same transaction as the attempt
 * and claimed by the delivery worker with a lease (shape and life cycle in store/delivery.ts).
 */
export const deliveryJobs = sqliteTable(
  "delivery_jobs",
  {
    id: text("id").primaryKey(),
    verificationId: text("verification_id")
      .notNull()
      .references(() => verifications.id, { onDelete: "cascade" }),
    sendAttemptId: text("send_attempt_id")
      .notNull()
      .references(() => sendAttempts.id, { onDelete: "cascade" }),
    channel: text("channel", { enum: ["SMS", "CALL"] }).notNull(),
    status: text("status", { enum: ["pending", "sending", "sent", "failed", "canceled"] }).notNull(),
    locale: text("locale"),
    /** AES-256-GCM sealed code (key derived from CODE_SECRET); null once the job is final. */
    sealedCode: text("sealed_code"),
    attempts: integer("attempts").notNull().default(0),
    runAt: integer("run_at").notNull(),
    leaseOwner: text("lease_owner"),
    leaseUntil: integer("lease_until"),
    providerSid: text("provider_sid"),
    errorCode: integer("error_code"),
    lastError: text("last_error"),
    /** The request that started the send (X-Request-Id): its logs, the worker's and the callbacks' share it. */
    requestId: text("request_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // The worker's claim scans by (status, run_at) for pending jobs and (status, lease_until) for stale leases.
    index("delivery_jobs_due_idx").on(t.status, t.runAt),
    index("delivery_jobs_lease_idx").on(t.status, t.leaseUntil),
    uniqueIndex("delivery_jobs_attempt_idx").on(t.sendAttemptId),
    index("delivery_jobs_verification_idx").on(t.verificationId),
  ],
);

/**
 * One row per request that went through the risk pipeline: the decision log that fraud statistics,
 * `verificationAttempts` and the summary are computed from.
 */
export const riskDecisions = sqliteTable(
  "risk_decisions",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull(),
    verificationId: text("verification_id"),
    kind: text("kind", { enum: ["START", "CHECK"] }).notNull(),
    outcome: text("outcome", { enum: ["ALLOWED", "BLOCKED"] }).notNull(),
    /** The stage that blocked (or null when allowed). */
    stage: text("stage"),
    code: text("code"),
    errorCode: integer("error_code"),
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
    /** 1 once the verification this start created or resent was approved (Twilio's conversion_status). */
    converted: integer("converted", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    // The attempts log pages newest first by (created_at, id) (keyset, never OFFSET): every index a
    // filter can use ends in those two columns, so a page is one index range read in order.
    index("risk_decisions_created_idx").on(t.createdAt, t.id),
    index("risk_decisions_service_idx").on(t.serviceId, t.createdAt, t.id),
    index("risk_decisions_verification_idx").on(t.verificationId),
    index("risk_decisions_to_idx").on(t.to, t.createdAt, t.id),
    index("risk_decisions_outcome_idx").on(t.serviceId, t.outcome, t.createdAt, t.id),
    index("risk_decisions_country_idx").on(t.serviceId, t.country, t.createdAt, t.id),
    // Only blocked rows have a stage and an error code: partial indexes stay small, so they can be
    // global (an admin searching every service for 60410) and still serve one service's search.
    index("risk_decisions_stage_idx").on(t.stage, t.createdAt, t.id).where(sql`stage is not null`),
    index("risk_decisions_error_code_idx").on(t.errorCode, t.createdAt, t.id).where(sql`error_code is not null`),
  ],
);

/**
 * Counters of risk_decisions per time bucket, so fraud statistics read a few thousand rows instead of
 * the whole log (store/stats.ts says how queries combine them). Kept by SQLite triggers (migration
 * `risk_rollup_triggers`) in the same transaction as each insert and each `converted` change, so no
 * code path can forget them. The log is append-only; deleting decisions would need matching triggers.
 * Key columns use '' and 0 for "none": NULLs never collide in a unique key, which would break the upsert.
 * Both roll-up tables are WITHOUT ROWID, which drizzle-kit cannot express: a future migration that
 * rebuilds one of them must keep that (see drizzle/sqlite/*_rollups_without_rowid.sql).
 */
const rollupCounters = () => ({
  /** Decisions (starts and checks). */
  decisions: integer("decisions").notNull().default(0),
  allowed: integer("allowed").notNull().default(0),
  /** Allowed starts: each sent a code. */
  sends: integer("sends").notNull().default(0),
  checks: integer("checks").notNull().default(0),
  /** Blocked starts, except invalid input (60200, never a send): sends the guard prevented. */
  prevented: integer("prevented").notNull().default(0),
  /** Sends whose verification was approved later. */
  converted: integer("converted").notNull().default(0),
  /** Approved verifications, counted once, at their first send. */
  approvals: integer("approvals").notNull().default(0),
  /** Allowed decisions a stage in shadow mode would have blocked. */
  shadowed: integer("shadowed").notNull().default(0),
});

/** Per service, hour (span HOUR) or UTC day (span DAY), country, channel, blocking stage and error code. */
export const riskRollups = sqliteTable(
  "risk_rollups",
  {
    span: text("span", { enum: ["HOUR", "DAY"] }).notNull(),
    /** Start of the hour or day, milliseconds since the epoch (UTC). */
    bucket: integer("bucket").notNull(),
    serviceId: text("service_id").notNull(),
    country: text("country").notNull(),
    channel: text("channel").notNull(),
    stage: text("stage").notNull(),
    errorCode: integer("error_code").notNull(),
    ...rollupCounters(),
  },
  (t) => [
    // WITHOUT ROWID (migration `rollups_without_rowid`): the rows are the primary key's B-tree, so a
    // range of buckets is read in one sequential pass with its counters, not one lookup per row.
    // A query over every service reads one key range per service (store/sqlite/stats.ts), so no
    // index on the bucket alone is needed.
    primaryKey({ name: "risk_rollups_pk", columns: [t.span, t.serviceId, t.bucket, t.country, t.channel, t.stage, t.errorCode] }),
  ],
);

/**
 * Per service, UTC day and number prefix. Prefixes are many, so they are rolled up per day only
 * (an hourly prefix table would be nearly as large as the log itself).
 */
export const riskPrefixRollups = sqliteTable(
  "risk_prefix_rollups",
  {
    /** Start of the UTC day, milliseconds since the epoch. */
    day: integer("day").notNull(),
    serviceId: text("service_id").notNull(),
    prefix: text("prefix").notNull(),
    country: text("country").notNull(),
    channel: text("channel").notNull(),
    stage: text("stage").notNull(),
    errorCode: integer("error_code").notNull(),
    ...rollupCounters(),
  },
  (t) => [
    // WITHOUT ROWID, as risk_rollups.
    primaryKey({ name: "risk_prefix_rollups_pk", columns: [t.serviceId, t.day, t.prefix, t.country, t.channel, t.stage, t.errorCode] }),
    // Top blocked prefixes read blocked rows only: a small partial index.
    index("risk_prefix_rollups_blocked_idx").on(t.serviceId, t.day).where(sql`stage <> ''`),
  ],
);

/** Admin prices replacing the shipped defaults of risk/prices.ts (integer micro-dollars). */
export const priceOverrides = sqliteTable(
  "price_overrides",
  {
    /** ISO 3166-1 alpha-2, or "*" for the fallback price. */
    country: text("country").notNull(),
    channel: text("channel", { enum: ["SMS", "CALL"] }).notNull(),
    usdMicros: integer("usd_micros").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.country, t.channel] })],
);

/** Estimated spend per service per UTC day, charged by the spend guard (integer micro-dollars). */
export const spendDaily = sqliteTable(
  "spend_daily",
  {
    serviceId: text("service_id").notNull(),
    /** UTC day, YYYY-MM-DD. */
    day: text("day").notNull(),
    usdMicros: integer("usd_micros").notNull().default(0),
    sends: integer("sends").notNull().default(0),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serviceId, t.day] })],
);

/**
 * Limiter counters, in the exact shape rate-limiter-flexible's RateLimiterSQLite reads and writes
 * (created here, not by the library, so migrations own the schema: `tableCreated: true`).
 * `expire` is wall-clock milliseconds after which a row is dead and may be swept.
 */
export const rateLimits = sqliteTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    points: integer("points").notNull().default(0),
    expire: integer("expire"),
  },
  (t) => [index("rate_limits_expire_idx").on(t.expire)],
);

/** Numbers an admin trusts: they skip the fraud stages (never the limits). Account-wide, like Twilio's Safe List. */
export const safeNumbers = sqliteTable("safe_numbers", {
  /** E.164. */
  number: text("number").primaryKey(),
  note: text("note"),
  createdAt: integer("created_at").notNull(),
});

/**
 * Admins' geo permissions per service, destination country and channel. Only choices are stored:
 * a missing row means the default of risk/geo-defaults.ts (BLOCK for the high-risk list, else MONITOR).
 */
export const geoPermissions = sqliteTable(
  "geo_permissions",
  {
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    /** ISO 3166-1 alpha-2, or "001" for non-geographic numbers. */
    country: text("country").notNull(),
    channel: text("channel", { enum: ["SMS", "CALL"] }).notNull(),
    permission: text("permission", { enum: ["BLOCK", "MONITOR", "ALLOW"] }).notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serviceId, t.country, t.channel] })],
);

/** Blocked number prefixes, global or per service, set by admins (MANUAL) or the pumping detector (AUTO). */
export const blockedPrefixes = sqliteTable(
  "blocked_prefixes",
  {
    /**
     * The service id, or "*" for a global block. A NOT NULL key column because NULLs never collide in
     * a unique index (in SQLite and PostgreSQL alike), which would allow duplicate global entries.
     */
    scope: text("scope").notNull(),
    /** The same service id (null when global), kept for the cascade on service deletion. */
    serviceId: text("service_id").references(() => services.id, { onDelete: "cascade" }),
    prefix: text("prefix").notNull(),
    source: text("source", { enum: ["MANUAL", "AUTO"] }).notNull(),
    reason: text("reason").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** null = until lifted. */
    expiresAt: integer("expires_at"),
  },
  (t) => [primaryKey({ columns: [t.scope, t.prefix] }), index("blocked_prefixes_prefix_idx").on(t.prefix)],
);

/**
 * Sliding-window event counters of the fraud detectors (risk/window-counter.ts): one row per key and
 * time bucket. Swept by age; a Redis implementation replaces this table for scale-out.
 */
export const riskCounters = sqliteTable(
  "risk_counters",
  {
    key: text("key").notNull(),
    /** Bucket start, milliseconds since the epoch. */
    bucket: integer("bucket").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.bucket] }), index("risk_counters_bucket_idx").on(t.bucket)],
);

/**
 * Approval-token signing keys (verification/approval-tokens.ts), shared by every instance. One row per
 * rotation period, named by when it starts signing; the private key is sealed under a key derived
 * from CODE_SECRET, so a dump of the database signs nothing.
 */
export const approvalKeys = sqliteTable(
  "approval_keys",
  {
    kid: text("kid").primaryKey(),
    alg: text("alg").notNull(),
    /** The public JWK (JSON), as `/.well-known/jwks.json` serves it. */
    publicJwk: text("public_jwk").notNull(),
    /** The private JWK, AES-256-GCM sealed (delivery/seal.ts's scheme, its own key), the kid as AAD. */
    sealedPrivateJwk: text("sealed_private_jwk").notNull(),
    /** From when it signs; the key with the latest `activates_at` not in the future is current. */
    activatesAt: integer("activates_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("approval_keys_activates_idx").on(t.activatesAt)],
);

/** Approval tokens redeemed (`redeemApprovalToken`): a token's jti once, kept until the token expires. */
export const approvalRedemptions = sqliteTable(
  "approval_redemptions",
  {
    jti: text("jti").primaryKey(),
    serviceId: text("service_id").notNull(),
    redeemedAt: integer("redeemed_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("approval_redemptions_expires_idx").on(t.expiresAt)],
);
