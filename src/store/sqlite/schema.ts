import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    index("risk_decisions_created_idx").on(t.createdAt),
    index("risk_decisions_service_idx").on(t.serviceId, t.createdAt),
    index("risk_decisions_verification_idx").on(t.verificationId),
  ],
);
