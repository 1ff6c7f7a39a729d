import { and, eq, getTableColumns, lt, lte, sql, type Table } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type * as schema from "./schema.js";
import { apiKeys, riskDecisions, sendAttempts, services, verifications } from "./schema.js";

const p = sql.placeholder;

/** Insert values binding every column of `table` to the placeholder of the same name. */
function allColumns<T extends Table>(table: T): T["$inferInsert"] {
  return Object.fromEntries(Object.keys(getTableColumns(table)).map((k) => [k, p(k)])) as unknown as T["$inferInsert"];
}

/**
 * The statements every start and check runs, built once with placeholders. drizzle builds a query's
 * SQL from its builder on every call, and for these one-row lookups that build cost about ten times
 * what SQLite takes to run them (`npm run bench`, CPU profile and micro-benchmarks): a prepared
 * drizzle query skips it and keeps the same types and column mapping.
 */
export function prepareHotQueries(db: BetterSQLite3Database<typeof schema>) {
  const pending = and(eq(verifications.serviceId, p("serviceId")), eq(verifications.to, p("to")), eq(verifications.status, "PENDING"));
  /** A verification a check may still move: PENDING, within its TTL, attempts left. */
  const checkable = and(
    eq(verifications.id, p("id")),
    eq(verifications.status, "PENDING"),
    sql`${verifications.expiresAt} > ${p("now")}`,
    lt(verifications.checkAttempts, p("maxCheckAttempts")),
  );
  return {
    serviceById: db.select().from(services).where(eq(services.id, p("id"))).prepare(),
    apiKeyByHash: db.select().from(apiKeys).where(eq(apiKeys.keyHash, p("keyHash"))).prepare(),
    verificationById: db.select().from(verifications).where(eq(verifications.id, p("id"))).prepare(),
    pendingVerification: db.select().from(verifications).where(pending).prepare(),
    /** createOrResend: a PENDING row of (service, to) past its TTL is expired first. */
    expireStalePending: db
      .update(verifications)
      .set({ status: "EXPIRED", updatedAt: sql`${p("now")}` })
      .where(and(pending, lte(verifications.expiresAt, p("now"))))
      .prepare(),
    insertVerification: db.insert(verifications).values(allColumns(verifications)).prepare(),
    insertSendAttempt: db.insert(sendAttempts).values(allColumns(sendAttempts)).prepare(),
    listSendAttempts: db
      .select()
      .from(sendAttempts)
      .where(eq(sendAttempts.verificationId, p("verificationId")))
      .orderBy(sendAttempts.at, sql`rowid`)
      .prepare(),
    /** The check's race gate (see SqliteStore.approve): guarded on PENDING, TTL and attempts. */
    approve: db
      .update(verifications)
      .set({ status: "APPROVED", checkAttempts: sql`${verifications.checkAttempts} + 1`, updatedAt: sql`${p("now")}` })
      .where(checkable)
      .returning()
      .prepare(),
    /** A wrong code, counted under the same guard; the count that reaches the limit ends it. */
    recordWrongCheck: db
      .update(verifications)
      .set({
        checkAttempts: sql`${verifications.checkAttempts} + 1`,
        status: sql`case when ${verifications.checkAttempts} + 1 >= ${p("maxCheckAttempts")} then 'MAX_ATTEMPTS_REACHED' else 'PENDING' end`,
        updatedAt: sql`${p("now")}`,
      })
      .where(checkable)
      .returning()
      .prepare(),
    markConverted: db
      .update(riskDecisions)
      .set({ converted: true })
      .where(and(eq(riskDecisions.verificationId, p("verificationId")), eq(riskDecisions.kind, "START"), eq(riskDecisions.outcome, "ALLOWED")))
      .prepare(),
    insertDecision: db.insert(riskDecisions).values(allColumns(riskDecisions)).prepare(),
  };
}

export type HotQueries = ReturnType<typeof prepareHotQueries>;
