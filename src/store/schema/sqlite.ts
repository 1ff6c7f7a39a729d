import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { deriveTables, type ColumnBuilder, type DrizzleDialect } from "./derive.js";

/**
 * drizzle's SQLite tables, derived from the one schema (tables.ts) for drizzle-kit
 * (`drizzle.sqlite.config.ts`) and the migrator: flags are 0/1 integers, JSON is text, and the
 * insertion order is the implicit rowid.
 */
const sqlite: DrizzleDialect = {
  name: "sqlite",
  table: (name, columns, extras) => sqliteTable(name, columns as never, (t) => extras(t) as never),
  column(c) {
    const b = (x: unknown) => x as ColumnBuilder;
    if (c.kind === "rowOrder") return null;
    if (c.kind === "text") return b(text(c.name, c.enum ? { enum: c.enum } : {}));
    if (c.kind === "json") return b(text(c.name));
    if (c.kind === "bool") return b(integer(c.name, { mode: "boolean" }));
    if (c.kind === "real") return b(real(c.name));
    return b(integer(c.name));
  },
  index: (name) => index(name) as never,
  uniqueIndex: (name) => uniqueIndex(name) as never,
  primaryKey: (config) => primaryKey(config as never),
  // A JSON column's default is stored as its text.
  defaultOf: (c, value) => (c.kind === "json" ? JSON.stringify(value) : value),
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
} = deriveTables(sqlite);
