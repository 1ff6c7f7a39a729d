import type { ApprovalKeyRow, ApprovalStore } from "../approval.js";
import { insertValues, selectList } from "../schema/define.js";
import { approvalKeys } from "../schema/tables.js";
import { query, type Db } from "../sql/query.js";

const q = {
  insertKey: query<ApprovalKeyRow>(`insert into approval_keys ${insertValues(approvalKeys)} on conflict (kid) do nothing`),
  keysBetween: query<{ from: number; to: number }, ApprovalKeyRow>(
    `select ${selectList(approvalKeys)} from approval_keys where activates_at >= :from and activates_at <= :to order by activates_at`,
  ),
  redeem: query<{ jti: string; serviceId: string; redeemedAt: number; expiresAt: number }>(
    "insert into approval_redemptions (jti, service_id, redeemed_at, expires_at) values (:jti, :serviceId, :redeemedAt, :expiresAt) on conflict (jti) do nothing",
  ),
  sweep: query<{ now: number }>("delete from approval_redemptions where expires_at <= :now"),
};

/** Approval keys and redemptions; each method one statement. */
export class SqlApprovalStore implements ApprovalStore {
  constructor(private readonly db: Db) {}

  async insertKeyIfAbsent(row: ApprovalKeyRow): Promise<void> {
    await this.db.run(q.insertKey, row);
  }

  keysBetween(from: number, to: number): Promise<ApprovalKeyRow[]> {
    return this.db.all(q.keysBetween, { from, to });
  }

  async redeem(row: { jti: string; serviceId: string; redeemedAt: number; expiresAt: number }): Promise<boolean> {
    return (await this.db.run(q.redeem, row)) > 0;
  }

  sweepRedemptions(now: number): Promise<number> {
    return this.db.run(q.sweep, { now });
  }
}
