import type { ConsentCursor, ConsentFilter, ConsentRecordRow, ConsentStore } from "../consent.js";
import { insertValues, selectList } from "../schema/define.js";
import { consentRecords } from "../schema/tables.js";
import { adhoc, query, type Db } from "../sql/query.js";

const C = selectList(consentRecords);

/** One consent record (also written by the store's commitStart, in the start's transaction). */
export const insertConsent = query<ConsentRecordRow>(`insert into consent_records ${insertValues(consentRecords)}`);

const q = {
  /** Oldest first through consent_records_created_idx, at most :limit rows a statement (no long write lock). */
  deleteBefore: query<{ cutoff: number; limit: number }>(
    "delete from consent_records where id in (select id from consent_records where created_at < :cutoff order by created_at limit :limit)",
  ),
};

/** Consent evidence; each method one statement. Starts write theirs with the verification (Store.commitStart). */
export class SqlConsentStore implements ConsentStore {
  constructor(private readonly db: Db) {}

  async insertConsent(row: ConsentRecordRow): Promise<void> {
    await this.db.run(insertConsent, row);
  }

  /**
   * Built per call (the filters vary), so each shape reads one index range: by number
   * (consent_records_to_idx) or by time (consent_records_created_idx), oldest first, with a keyset on
   * (created_at, id) for the next page.
   */
  listConsent(f: ConsentFilter, limit: number, after?: ConsentCursor): Promise<ConsentRecordRow[]> {
    const d = this.db.dialect;
    const where: string[] = [];
    const params: Record<string, unknown> = { limit };
    if (f.to !== undefined) (where.push("to_number = :to"), (params.to = f.to));
    if (f.serviceId !== undefined) (where.push("service_id = :serviceId"), (params.serviceId = f.serviceId));
    if (f.from !== undefined) (where.push("created_at >= :from"), (params.from = f.from));
    if (f.until !== undefined) (where.push("created_at < :until"), (params.until = f.until));
    if (after) {
      where.push(`(created_at, id) > (${d.int(":afterAt")}, ${d.text(":afterId")})`);
      Object.assign(params, { afterAt: after.createdAt, afterId: after.id });
    }
    const sql = `select ${C} from consent_records${where.length ? ` where ${where.join(" and ")}` : ""} order by created_at, id limit :limit`;
    return this.db.all(adhoc<Record<string, unknown>, ConsentRecordRow>(sql), params);
  }

  deleteConsentBefore(cutoff: number, limit: number): Promise<number> {
    return this.db.run(q.deleteBefore, { cutoff, limit });
  }
}
