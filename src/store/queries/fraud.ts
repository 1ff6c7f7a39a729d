import type { BlockedPrefixRow, FraudStore, GeoPermission, GeoPermissionRow, SafeNumberRow } from "../fraud.js";
import { selectList } from "../schema/define.js";
import { blockedPrefixes, geoPermissions, safeNumbers } from "../schema/tables.js";
import { writeConfig, type ConfigCache } from "../config-cache.js";
import type { Dialect } from "../sql/dialect.js";
import { get, query, run, type Db, type Step } from "../sql/query.js";
import type { Channel } from "../types.js";

const GLOBAL_SCOPE = "*";
const scopeOf = (serviceId: string | null) => serviceId ?? GLOBAL_SCOPE;
/** Every column but `scope` (a BlockedPrefixRow carries serviceId, null when global). */
const BP = selectList(blockedPrefixes).replace(/^scope, /, "");
const G = selectList(geoPermissions);
const SAFE = selectList(safeNumbers);
const LIVE = "(expires_at is null or expires_at > :now)";

/** A block as the database holds it: '' for "every country", figures as JSON. */
type BlockParams = Omit<BlockedPrefixRow, "country" | "figures"> & { scope: string; country: string; figures: string | null };
const toParams = (row: BlockedPrefixRow): BlockParams => ({
  ...row,
  scope: scopeOf(row.serviceId),
  country: row.country ?? "",
  figures: row.figures ? JSON.stringify(row.figures) : null,
});
const toBlock = (row: Record<string, unknown>, d: Dialect): BlockedPrefixRow =>
  ({ ...row, country: row.country || null, figures: row.figures == null ? null : d.readJson(row.figures) }) as BlockedPrefixRow;

const q = {
  addSafe: query<SafeNumberRow, SafeNumberRow>(
    `insert into safe_numbers (number, note, created_at) values (:number, :note, :createdAt)
     on conflict (number) do update set note = excluded.note returning ${SAFE}`,
  ),
  removeSafe: query<{ number: string }>("delete from safe_numbers where number = :number"),
  isSafe: query<{ number: string }, { n: string }>("select number as n from safe_numbers where number = :number"),
  listSafe: query<object, SafeNumberRow>((d) => `select ${SAFE} from safe_numbers order by created_at, ${d.bytewise("number")}`),

  geo: query<{ serviceId: string; country: string; channel: Channel }, { permission: GeoPermission }>(
    "select permission from geo_permissions where service_id = :serviceId and country = :country and channel = :channel",
  ),
  listGeo: query<{ serviceId: string }, GeoPermissionRow>((d) => `select ${G} from geo_permissions where service_id = :serviceId order by ${d.bytewise("country")}, channel`),
  setGeo: query<GeoPermissionRow>(
    `insert into geo_permissions (service_id, country, channel, permission, updated_at) values (:serviceId, :country, :channel, :permission, :updatedAt)
     on conflict (service_id, country, channel) do update set permission = excluded.permission, updated_at = excluded.updated_at`,
  ),
  resetGeo: query<{ serviceId: string }>("delete from geo_permissions where service_id = :serviceId"),
  resetGeoCountries: query<{ serviceId: string; countries: string[] }>((d) => `delete from geo_permissions where service_id = :serviceId and country in ${d.inList(":countries", "text")}`),

  // MANUAL before AUTO (an AUTO entry may be waived for an ALLOW destination, a MANUAL one never),
  // then the service's entries before global ones ("*" sorts before letters bytewise, hence desc).
  findBlock: query<{ candidates: string[]; serviceId: string; country: string; now: number }, BlockedPrefixRow>(
    (d) => `select ${BP} from blocked_prefixes
     where prefix in ${d.inList(":candidates", "text")} and scope in (:serviceId, '*') and country in ('', :country) and ${LIVE}
     order by source desc, ${d.bytewise("scope")} desc limit 1`,
    { map: toBlock },
  ),
  listBlocks: query<{ now: number; serviceId: string | null }, BlockedPrefixRow>(
    (d) => `select ${BP} from blocked_prefixes where ${LIVE} and (${d.text(":serviceId")} is null or scope in (:serviceId, '*'))
     order by ${d.bytewise("scope")}, ${d.bytewise("prefix")}, ${d.bytewise("country")}`,
    { map: toBlock },
  ),
  putManual: query<BlockParams, BlockedPrefixRow>(
    `insert into blocked_prefixes (scope, service_id, prefix, country, source, reason, level, rule, figures, created_at, updated_at, expires_at)
     values (:scope, :serviceId, :prefix, :country, :source, :reason, :level, :rule, :figures, :createdAt, :updatedAt, :expiresAt)
     on conflict (scope, prefix, country) do update set source = excluded.source, reason = excluded.reason, level = excluded.level,
       rule = excluded.rule, figures = excluded.figures, created_at = excluded.created_at, updated_at = excluded.updated_at,
       expires_at = excluded.expires_at
     returning ${BP}`,
    { map: toBlock },
  ),
  /**
   * One statement decides (under SQLite's writer lock, or PostgreSQL's row lock of ON CONFLICT, so two
   * instances' detectors agree): an AUTO entry is renewed, its first detection time kept; an expired
   * entry of either kind is replaced; a live MANUAL entry is left alone (the WHERE matches nothing).
   */
  putAuto: query<BlockParams, BlockedPrefixRow>(
    `insert into blocked_prefixes (scope, service_id, prefix, country, source, reason, level, rule, figures, created_at, updated_at, expires_at)
     values (:scope, :serviceId, :prefix, :country, 'AUTO', :reason, :level, :rule, :figures, :createdAt, :updatedAt, :expiresAt)
     on conflict (scope, prefix, country) do update set source = 'AUTO', reason = excluded.reason, level = excluded.level,
       rule = excluded.rule, figures = excluded.figures, expires_at = excluded.expires_at, updated_at = excluded.updated_at,
       created_at = case when blocked_prefixes.source = 'AUTO' and blocked_prefixes.expires_at > excluded.updated_at
         then blocked_prefixes.created_at else excluded.created_at end
     where blocked_prefixes.source = 'AUTO' or blocked_prefixes.expires_at <= excluded.updated_at
     returning ${BP}`,
    { map: toBlock },
  ),
  removeBlock: query<{ scope: string; prefix: string; country: string }, BlockedPrefixRow>(
    `delete from blocked_prefixes where scope = :scope and prefix = :prefix and country = :country returning ${BP}`,
    { map: toBlock },
  ),
};

/** The pumping detector's block as a transaction step (a request's commit, store/queries/store.ts). */
export function* putAutoBlock(row: BlockedPrefixRow): Generator<Step, BlockedPrefixRow | undefined, unknown> {
  return yield* get(q.putAuto, toParams(row));
}

/**
 * The fraud stages' data: the safe list, per-service geo permissions and blocked prefixes. With a
 * cache (store/config-cache.ts) the stages' reads come from memory: the whole safe list, a service's
 * geo permissions, and the blocks in force, each loaded once per configuration version.
 */
export class SqlFraudStore implements FraudStore {
  constructor(
    private readonly db: Db,
    private readonly cache?: ConfigCache,
  ) {}

  async addSafeNumber(row: SafeNumberRow): Promise<SafeNumberRow> {
    return (await writeConfig(this.db, this.cache, () => get(q.addSafe, row)))!;
  }

  async removeSafeNumber(number: string): Promise<boolean> {
    return (await writeConfig(this.db, this.cache, () => run(q.removeSafe, { number }))) > 0;
  }

  async isSafeNumber(number: string): Promise<boolean> {
    if (!this.cache) return (await this.db.get(q.isSafe, { number })) !== undefined;
    const all = await this.cache.get("safe", async () => new Set((await this.listSafeNumbers()).map((r) => r.number)));
    return all.has(number);
  }

  listSafeNumbers(): Promise<SafeNumberRow[]> {
    return this.db.all(q.listSafe, {});
  }

  async getGeoPermission(serviceId: string, country: string, channel: Channel): Promise<GeoPermission | null> {
    if (!this.cache) return (await this.db.get(q.geo, { serviceId, country, channel }))?.permission ?? null;
    const own = await this.cache.get(`geo:${serviceId}`, async () => new Map((await this.listGeoPermissions(serviceId)).map((r) => [`${r.country}:${r.channel}`, r.permission])));
    return own.get(`${country}:${channel}`) ?? null;
  }

  listGeoPermissions(serviceId: string): Promise<GeoPermissionRow[]> {
    return this.db.all(q.listGeo, { serviceId });
  }

  async setGeoPermissions(rows: GeoPermissionRow[]): Promise<void> {
    await writeConfig(this.db, this.cache, function* () {
      for (const r of rows) yield* run(q.setGeo, r);
    });
  }

  async resetGeoPermissions(serviceId: string, countries?: string[]): Promise<number> {
    if (countries && countries.length === 0) return 0;
    return writeConfig(this.db, this.cache, () => (countries ? run(q.resetGeoCountries, { serviceId, countries }) : run(q.resetGeo, { serviceId })));
  }

  async findPrefixBlock(serviceId: string, candidates: string[], country: string | null, now: number): Promise<BlockedPrefixRow | null> {
    if (candidates.length === 0) return null;
    if (!this.cache) return (await this.db.get(q.findBlock, { candidates, serviceId, country: country ?? "", now })) ?? null;
    // Every block in force when loaded (an expired one is renewed by a write, which bumps the version);
    // expiry is tested again now. The same order as q.findBlock: MANUAL first, the service's before global.
    const blocks = await this.cache.get("blocks", () => this.listPrefixBlocks(now));
    const wanted = new Set(candidates);
    let best: BlockedPrefixRow | null = null;
    for (const b of blocks) {
      if (!wanted.has(b.prefix) || (b.serviceId !== null && b.serviceId !== serviceId) || (b.expiresAt !== null && b.expiresAt <= now)) continue;
      if (b.country !== null && b.country !== country) continue; // a country's block, of another country
      if (!best || rank(b) > rank(best)) best = b;
    }
    return best;
  }

  listPrefixBlocks(now: number, serviceId?: string): Promise<BlockedPrefixRow[]> {
    return this.db.all(q.listBlocks, { now, serviceId: serviceId ?? null });
  }

  async putManualPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow> {
    return (await writeConfig(this.db, this.cache, () => get(q.putManual, toParams(row))))!;
  }

  async putAutoPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow | null> {
    return (await writeConfig(this.db, this.cache, () => get(q.putAuto, toParams(row)))) ?? null;
  }

  async removePrefixBlock(serviceId: string | null, prefix: string, country?: string | null): Promise<BlockedPrefixRow | null> {
    return (await writeConfig(this.db, this.cache, () => get(q.removeBlock, { scope: scopeOf(serviceId), prefix, country: country ?? "" }))) ?? null;
  }
}

/** A block's precedence for a number (see q.findBlock): MANUAL over AUTO, then a service's own over a global one. */
function rank(b: BlockedPrefixRow): number {
  return (b.source === "MANUAL" ? 2 : 0) + (b.serviceId !== null ? 1 : 0);
}
