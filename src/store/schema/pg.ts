import { bigint, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { deriveTables, type ColumnBuilder, type DrizzleDialect } from "./derive.js";

/**
 * drizzle's PostgreSQL tables, derived from the one schema (tables.ts) for drizzle-kit
 * (`drizzle.pg.config.ts`) and the migrator: 64-bit integers are `bigint` read as JS numbers (epoch
 * milliseconds are safe until the year 285 616), flags `boolean`, JSON `jsonb`, and the insertion
 * order an identity column (SQLite's rowid).
 */
const pg: DrizzleDialect = {
  name: "postgres",
  table: (name, columns, extras) => pgTable(name, columns as never, (t) => extras(t) as never),
  column(c) {
    const b = (x: unknown) => x as ColumnBuilder;
    if (c.kind === "rowOrder") return b(bigint(c.name, { mode: "number" }).generatedAlwaysAsIdentity());
    if (c.kind === "text") return b(text(c.name, c.enum ? { enum: c.enum } : {}));
    if (c.kind === "json") return b(jsonb(c.name));
    if (c.kind === "bool") return b(boolean(c.name));
    if (c.kind === "real") return b(doublePrecision(c.name));
    if (c.kind === "int64") return b(bigint(c.name, { mode: "number" }));
    return b(integer(c.name));
  },
  index: (name) => index(name) as never,
  uniqueIndex: (name) => uniqueIndex(name) as never,
  primaryKey: (config) => primaryKey(config as never),
};

export const {
  services,
  apiKeys,
  verifications,
  sendAttempts,
  deliveryJobs,
  riskDecisions,
  riskRollups,
  riskPrefixRollups,
  priceOverrides,
  spendDaily,
  rateLimits,
  safeNumbers,
  geoPermissions,
  blockedPrefixes,
  riskCounters,
  approvalKeys,
  approvalRedemptions,
  instanceSettings,
  consentRecords,
  configVersion,
  serviceWebhooks,
  webhookDeliveries,
  deliveryAlerts,
  erasures,
  maintenance,
} = deriveTables(pg);
