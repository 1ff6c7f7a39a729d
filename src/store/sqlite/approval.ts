import { and, asc, gte, lte } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { ApprovalKeyRow, ApprovalStore } from "../approval.js";
import * as schema from "./schema.js";

const { approvalKeys, approvalRedemptions } = schema;

/** Approval keys and redemptions on the SQLite file; each method one statement. */
export class SqliteApprovalStore implements ApprovalStore {
  constructor(private readonly db: BetterSQLite3Database<typeof schema>) {}

  async insertKeyIfAbsent(row: ApprovalKeyRow): Promise<void> {
    this.db.insert(approvalKeys).values(row).onConflictDoNothing().run();
  }

  async keysBetween(from: number, to: number): Promise<ApprovalKeyRow[]> {
    return this.db.select().from(approvalKeys).where(and(gte(approvalKeys.activatesAt, from), lte(approvalKeys.activatesAt, to))).orderBy(asc(approvalKeys.activatesAt)).all();
  }

  async redeem(row: { jti: string; serviceId: string; redeemedAt: number; expiresAt: number }): Promise<boolean> {
    return this.db.insert(approvalRedemptions).values(row).onConflictDoNothing().run().changes > 0;
  }

  async sweepRedemptions(now: number): Promise<number> {
    return this.db.delete(approvalRedemptions).where(lte(approvalRedemptions.expiresAt, now)).run().changes;
  }
}
