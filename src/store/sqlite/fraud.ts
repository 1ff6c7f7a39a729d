import { and, asc, desc, eq, gt, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { BlockedPrefixRow, FraudStore, GeoPermission, GeoPermissionRow, SafeNumberRow } from "../fraud.js";
import type { Channel } from "../types.js";
import type * as schema from "./schema.js";
import { blockedPrefixes, geoPermissions, safeNumbers } from "./schema.js";

const GLOBAL_SCOPE = "*";
const scopeOf = (serviceId: string | null) => serviceId ?? GLOBAL_SCOPE;
type PrefixDb = typeof blockedPrefixes.$inferSelect;
const toPrefix = ({ scope: _scope, ...row }: PrefixDb): BlockedPrefixRow => row;

/**
 * The fraud stages' data on the embedded SQLite file, sharing the store's connection. Written with
 * the drizzle query builder only (ON CONFLICT … DO UPDATE … WHERE and RETURNING exist in PostgreSQL
 * too), so the PostgreSQL implementation is a transliteration.
 */
export class SqliteFraudStore implements FraudStore {
  constructor(private readonly db: BetterSQLite3Database<typeof schema>) {}

  async addSafeNumber(row: SafeNumberRow): Promise<SafeNumberRow> {
    return this.db
      .insert(safeNumbers)
      .values(row)
      .onConflictDoUpdate({ target: safeNumbers.number, set: { note: row.note } })
      .returning()
      .get();
  }

  async removeSafeNumber(number: string): Promise<boolean> {
    return this.db.delete(safeNumbers).where(eq(safeNumbers.number, number)).run().changes > 0;
  }

  async isSafeNumber(number: string): Promise<boolean> {
    return this.db.select({ n: safeNumbers.number }).from(safeNumbers).where(eq(safeNumbers.number, number)).get() !== undefined;
  }

  async listSafeNumbers(): Promise<SafeNumberRow[]> {
    return this.db.select().from(safeNumbers).orderBy(asc(safeNumbers.createdAt), asc(safeNumbers.number)).all();
  }

  async getGeoPermission(serviceId: string, country: string, channel: Channel): Promise<GeoPermission | null> {
    const row = this.db
      .select({ permission: geoPermissions.permission })
      .from(geoPermissions)
      .where(and(eq(geoPermissions.serviceId, serviceId), eq(geoPermissions.country, country), eq(geoPermissions.channel, channel)))
      .get();
    return row?.permission ?? null;
  }

  async listGeoPermissions(serviceId: string): Promise<GeoPermissionRow[]> {
    return this.db
      .select()
      .from(geoPermissions)
      .where(eq(geoPermissions.serviceId, serviceId))
      .orderBy(asc(geoPermissions.country), asc(geoPermissions.channel))
      .all();
  }

  async setGeoPermissions(rows: GeoPermissionRow[]): Promise<void> {
    // Synchronous body: better-sqlite3 commits an async one outside the transaction.
    this.db.transaction((tx) => {
      for (const r of rows) {
        tx.insert(geoPermissions)
          .values(r)
          .onConflictDoUpdate({
            target: [geoPermissions.serviceId, geoPermissions.country, geoPermissions.channel],
            set: { permission: r.permission, updatedAt: r.updatedAt },
          })
          .run();
      }
    });
  }

  async resetGeoPermissions(serviceId: string, countries?: string[]): Promise<number> {
    if (countries && countries.length === 0) return 0;
    const where = countries
      ? and(eq(geoPermissions.serviceId, serviceId), inArray(geoPermissions.country, countries))
      : eq(geoPermissions.serviceId, serviceId);
    return this.db.delete(geoPermissions).where(where).run().changes;
  }

  async findPrefixBlock(serviceId: string, candidates: string[], now: number): Promise<BlockedPrefixRow | null> {
    if (candidates.length === 0) return null;
    const row = this.db
      .select()
      .from(blockedPrefixes)
      .where(
        and(
          inArray(blockedPrefixes.prefix, candidates),
          inArray(blockedPrefixes.scope, [serviceId, GLOBAL_SCOPE]),
          or(isNull(blockedPrefixes.expiresAt), gt(blockedPrefixes.expiresAt, now)),
        ),
      )
      // MANUAL before AUTO (an AUTO entry may be waived for an ALLOW destination, a MANUAL one never),
      // then the service's entries before global ones ("*" sorts before letters, hence desc).
      .orderBy(desc(blockedPrefixes.source), desc(blockedPrefixes.scope))
      .limit(1)
      .get();
    return row ? toPrefix(row) : null;
  }

  async listPrefixBlocks(now: number, serviceId?: string): Promise<BlockedPrefixRow[]> {
    const live = or(isNull(blockedPrefixes.expiresAt), gt(blockedPrefixes.expiresAt, now));
    const where = serviceId ? and(live, inArray(blockedPrefixes.scope, [serviceId, GLOBAL_SCOPE])) : live;
    return this.db
      .select()
      .from(blockedPrefixes)
      .where(where)
      .orderBy(asc(blockedPrefixes.scope), asc(blockedPrefixes.prefix))
      .all()
      .map(toPrefix);
  }

  async putManualPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow> {
    const values = { ...row, scope: scopeOf(row.serviceId) };
    const { scope: _s, prefix: _p, serviceId: _id, ...set } = values;
    return toPrefix(
      this.db
        .insert(blockedPrefixes)
        .values(values)
        .onConflictDoUpdate({ target: [blockedPrefixes.scope, blockedPrefixes.prefix], set })
        .returning()
        .get(),
    );
  }

  async putAutoPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow | null> {
    const values = { ...row, source: "AUTO" as const, scope: scopeOf(row.serviceId) };
    // One statement decides: an AUTO entry is renewed (first detection time kept), an expired entry
    // of either kind is replaced, and a live MANUAL entry is left alone (the WHERE matches nothing).
    const out = this.db
      .insert(blockedPrefixes)
      .values(values)
      .onConflictDoUpdate({
        target: [blockedPrefixes.scope, blockedPrefixes.prefix],
        set: {
          source: "AUTO",
          reason: row.reason,
          expiresAt: row.expiresAt,
          updatedAt: row.updatedAt,
          // A renewal keeps the first detection time; a replaced (expired or MANUAL) entry starts anew.
          createdAt: sql`case when ${blockedPrefixes.source} = 'AUTO' and ${blockedPrefixes.expiresAt} > ${row.updatedAt} then ${blockedPrefixes.createdAt} else excluded.created_at end`,
        },
        setWhere: or(eq(blockedPrefixes.source, "AUTO"), lte(blockedPrefixes.expiresAt, row.updatedAt)),
      })
      .returning()
      .get();
    return out ? toPrefix(out) : null;
  }

  async removePrefixBlock(serviceId: string | null, prefix: string): Promise<BlockedPrefixRow | null> {
    const row = this.db
      .delete(blockedPrefixes)
      .where(and(eq(blockedPrefixes.scope, scopeOf(serviceId)), eq(blockedPrefixes.prefix, prefix)))
      .returning()
      .get();
    return row ? toPrefix(row) : null;
  }
}
