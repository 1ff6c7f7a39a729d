import { and, asc, desc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { BlockedPrefixRow, FraudStore, GeoPermission, GeoPermissionRow, SafeNumberRow } from "../fraud.js";
import type { Channel } from "../types.js";
import type { PgDb } from "./connect.js";
import { withCleanErrors } from "./errors.js";
import { blockedPrefixes, geoPermissions, safeNumbers } from "./schema.js";

const GLOBAL_SCOPE = "*";
const scopeOf = (serviceId: string | null) => serviceId ?? GLOBAL_SCOPE;
type PrefixDb = typeof blockedPrefixes.$inferSelect;
const toPrefix = ({ scope: _scope, ...row }: PrefixDb): BlockedPrefixRow => row;

/**
 * Byte order, as SQLite sorts: a database created with a natural-language collation (en_US.UTF-8)
 * would ignore "*" and "+" when sorting, and the service-before-global rule below depends on "*".
 */
const bytewise = (col: AnyPgColumn): SQL => sql`${col} collate "C"`;

/** The fraud stages' data on PostgreSQL: the SQLite store's statements, awaited (same contract tests). */
export class PgFraudStore implements FraudStore {
  constructor(private readonly db: PgDb) {}

  async addSafeNumber(row: SafeNumberRow): Promise<SafeNumberRow> {
    const [out] = await this.db
      .insert(safeNumbers)
      .values(row)
      .onConflictDoUpdate({ target: safeNumbers.number, set: { note: row.note } })
      .returning();
    return out!;
  }

  async removeSafeNumber(number: string): Promise<boolean> {
    const rows = await this.db.delete(safeNumbers).where(eq(safeNumbers.number, number)).returning({ n: safeNumbers.number });
    return rows.length > 0;
  }

  async isSafeNumber(number: string): Promise<boolean> {
    const rows = await this.db.select({ n: safeNumbers.number }).from(safeNumbers).where(eq(safeNumbers.number, number));
    return rows.length > 0;
  }

  async listSafeNumbers(): Promise<SafeNumberRow[]> {
    return this.db.select().from(safeNumbers).orderBy(asc(safeNumbers.createdAt), asc(bytewise(safeNumbers.number)));
  }

  async getGeoPermission(serviceId: string, country: string, channel: Channel): Promise<GeoPermission | null> {
    const [row] = await this.db
      .select({ permission: geoPermissions.permission })
      .from(geoPermissions)
      .where(and(eq(geoPermissions.serviceId, serviceId), eq(geoPermissions.country, country), eq(geoPermissions.channel, channel)));
    return row?.permission ?? null;
  }

  async listGeoPermissions(serviceId: string): Promise<GeoPermissionRow[]> {
    return this.db
      .select()
      .from(geoPermissions)
      .where(eq(geoPermissions.serviceId, serviceId))
      .orderBy(asc(bytewise(geoPermissions.country)), asc(geoPermissions.channel));
  }

  async setGeoPermissions(rows: GeoPermissionRow[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const r of rows) {
        await tx
          .insert(geoPermissions)
          .values(r)
          .onConflictDoUpdate({
            target: [geoPermissions.serviceId, geoPermissions.country, geoPermissions.channel],
            set: { permission: r.permission, updatedAt: r.updatedAt },
          });
      }
    });
  }

  async resetGeoPermissions(serviceId: string, countries?: string[]): Promise<number> {
    if (countries && countries.length === 0) return 0;
    const where = countries
      ? and(eq(geoPermissions.serviceId, serviceId), inArray(geoPermissions.country, countries))
      : eq(geoPermissions.serviceId, serviceId);
    const rows = await this.db.delete(geoPermissions).where(where).returning({ c: geoPermissions.country });
    return rows.length;
  }

  async findPrefixBlock(serviceId: string, candidates: string[], now: number): Promise<BlockedPrefixRow | null> {
    if (candidates.length === 0) return null;
    const [row] = await this.db
      .select()
      .from(blockedPrefixes)
      .where(
        and(
          inArray(blockedPrefixes.prefix, candidates),
          inArray(blockedPrefixes.scope, [serviceId, GLOBAL_SCOPE]),
          or(isNull(blockedPrefixes.expiresAt), gt(blockedPrefixes.expiresAt, now)),
        ),
      )
      // MANUAL before AUTO, then the service's entries before global ones ("*" sorts first bytewise).
      .orderBy(desc(blockedPrefixes.source), desc(bytewise(blockedPrefixes.scope)))
      .limit(1);
    return row ? toPrefix(row) : null;
  }

  async listPrefixBlocks(now: number, serviceId?: string): Promise<BlockedPrefixRow[]> {
    const live = or(isNull(blockedPrefixes.expiresAt), gt(blockedPrefixes.expiresAt, now));
    const where = serviceId ? and(live, inArray(blockedPrefixes.scope, [serviceId, GLOBAL_SCOPE])) : live;
    const rows = await this.db
      .select()
      .from(blockedPrefixes)
      .where(where)
      .orderBy(asc(bytewise(blockedPrefixes.scope)), asc(bytewise(blockedPrefixes.prefix)));
    return rows.map(toPrefix);
  }

  async putManualPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow> {
    const values = { ...row, scope: scopeOf(row.serviceId) };
    const { scope: _s, prefix: _p, serviceId: _id, ...set } = values;
    const [out] = await this.db
      .insert(blockedPrefixes)
      .values(values)
      .onConflictDoUpdate({ target: [blockedPrefixes.scope, blockedPrefixes.prefix], set })
      .returning();
    return toPrefix(out!);
  }

  async putAutoPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow | null> {
    const values = { ...row, source: "AUTO" as const, scope: scopeOf(row.serviceId) };
    // One statement decides (under the row lock of ON CONFLICT, so two instances' detectors agree):
    // an AUTO entry is renewed (first detection kept), an expired entry of either kind is replaced,
    // and a live MANUAL entry is left alone (the WHERE matches nothing).
    const [out] = await this.db
      .insert(blockedPrefixes)
      .values(values)
      .onConflictDoUpdate({
        target: [blockedPrefixes.scope, blockedPrefixes.prefix],
        set: {
          source: "AUTO",
          reason: row.reason,
          expiresAt: row.expiresAt,
          updatedAt: row.updatedAt,
          createdAt: sql`case when ${blockedPrefixes.source} = 'AUTO' and ${blockedPrefixes.expiresAt} > ${row.updatedAt} then ${blockedPrefixes.createdAt} else excluded.created_at end`,
        },
        setWhere: or(eq(blockedPrefixes.source, "AUTO"), lte(blockedPrefixes.expiresAt, row.updatedAt)),
      })
      .returning();
    return out ? toPrefix(out) : null;
  }

  async removePrefixBlock(serviceId: string | null, prefix: string): Promise<BlockedPrefixRow | null> {
    const [row] = await this.db
      .delete(blockedPrefixes)
      .where(and(eq(blockedPrefixes.scope, scopeOf(serviceId)), eq(blockedPrefixes.prefix, prefix)))
      .returning();
    return row ? toPrefix(row) : null;
  }
}

withCleanErrors(PgFraudStore);
