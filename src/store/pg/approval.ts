import { and, asc, gte, lte } from "drizzle-orm";
import type { ApprovalKeyRow, ApprovalStore } from "../approval.js";
import type { PgDb } from "./connect.js";
import { withCleanErrors } from "./errors.js";
import { approvalKeys, approvalRedemptions } from "./schema.js";

/** Approval keys and redemptions on PostgreSQL; each method one statement. */
export class PgApprovalStore implements ApprovalStore {
  constructor(private readonly db: PgDb) {}

  async insertKeyIfAbsent(row: ApprovalKeyRow): Promise<void> {
    await this.db.insert(approvalKeys).values(row).onConflictDoNothing();
  }

  async keysBetween(from: number, to: number): Promise<ApprovalKeyRow[]> {
    return this.db.select().from(approvalKeys).where(and(gte(approvalKeys.activatesAt, from), lte(approvalKeys.activatesAt, to))).orderBy(asc(approvalKeys.activatesAt));
  }

  async redeem(row: { jti: string; serviceId: string; redeemedAt: number; expiresAt: number }): Promise<boolean> {
    const rows = await this.db.insert(approvalRedemptions).values(row).onConflictDoNothing().returning({ jti: approvalRedemptions.jti });
    return rows.length > 0;
  }

  async sweepRedemptions(now: number): Promise<number> {
    const rows = await this.db.delete(approvalRedemptions).where(lte(approvalRedemptions.expiresAt, now)).returning({ jti: approvalRedemptions.jti });
    return rows.length;
  }
}

withCleanErrors(PgApprovalStore);
