import type { Channel } from "./types.js";

/**
 * Persistence for the fraud stages: the safe list, per-service geo permissions and blocked prefixes.
 * Chosen in the composition root next to the {@link Store} (SQLite by default, PostgreSQL for
 * scale-out). The detectors' sliding-window counters live behind their own, narrower interface
 * (`risk/window-counter.ts`) so they can move to Redis on their own.
 */

/** BLOCK refuses (60605); MONITOR sends and lets the prefix guard watch; ALLOW sends, trusted. */
export type GeoPermission = "BLOCK" | "MONITOR" | "ALLOW";

/** Where a blocked prefix came from: an admin, or the SMS-pumping detector. */
export type PrefixBlockSource = "MANUAL" | "AUTO";

/** What an automatic block covers: one prefix, a wider range (a shorter prefix), or a whole country. */
export type AutoBlockLevel = "PREFIX" | "RANGE" | "COUNTRY";

/** A number an admin trusts (account-wide, like Twilio's Safe List). */
export interface SafeNumberRow {
  /** E.164. */
  number: string;
  note: string | null;
  createdAt: number;
}

/** An admin's geo permission for one service, destination country and channel. */
export interface GeoPermissionRow {
  serviceId: string;
  /** ISO 3166-1 alpha-2 (upper case), or "001" for non-geographic numbers (+800, +870, +881-883). */
  country: string;
  channel: Channel;
  permission: GeoPermission;
  updatedAt: number;
}

/** A blocked prefix: sends to numbers starting with `prefix` are refused (60410). */
export interface BlockedPrefixRow {
  /** null = global (every service). */
  serviceId: string | null;
  /** "+" and 1 to 15 digits, e.g. "+2217" or "+44741"; for a country's block, its calling code ("+998"). */
  prefix: string;
  /** A country's block (level COUNTRY): only numbers of this country under the prefix; null: every number under it. */
  country: string | null;
  source: PrefixBlockSource;
  reason: string;
  /** The evidence of an AUTO block: where the detector put it, the rule that fired, the figures it judged on. Null on MANUAL blocks. */
  level: AutoBlockLevel | null;
  rule: string | null;
  figures: Record<string, number> | null;
  createdAt: number;
  updatedAt: number;
  /** Milliseconds since the epoch; null = until lifted. Expired rows are ignored. */
  expiresAt: number | null;
}

export interface FraudStore {
  // safe list
  /** Adds a number, or replaces the note of one already there. */
  addSafeNumber(row: SafeNumberRow): Promise<SafeNumberRow>;
  /** False when the number was not on the list. */
  removeSafeNumber(number: string): Promise<boolean>;
  isSafeNumber(number: string): Promise<boolean>;
  listSafeNumbers(): Promise<SafeNumberRow[]>;

  // geo permissions (only admins' choices are stored; defaults live in risk/geo-defaults.ts)
  getGeoPermission(serviceId: string, country: string, channel: Channel): Promise<GeoPermission | null>;
  listGeoPermissions(serviceId: string): Promise<GeoPermissionRow[]>;
  /** Upserts every row in one transaction: all or nothing. */
  setGeoPermissions(rows: GeoPermissionRow[]): Promise<void>;
  /** Deletes the admin's choices for the given countries (all when omitted); returns how many. */
  resetGeoPermissions(serviceId: string, countries?: string[]): Promise<number>;

  // blocked prefixes
  /**
   * The first unexpired block, global or of `serviceId`, whose prefix is one of `candidates`
   * (the caller passes every leading part of the number, so matching is an indexed IN lookup) and
   * that covers the number's `country` (a block of every country, or a block of that country).
   * MANUAL entries come before AUTO ones, then service entries before global ones.
   */
  findPrefixBlock(serviceId: string, candidates: string[], country: string | null, now: number): Promise<BlockedPrefixRow | null>;
  /** Unexpired blocks: those that apply to `serviceId` (its own and global ones), or all when omitted. */
  listPrefixBlocks(now: number, serviceId?: string): Promise<BlockedPrefixRow[]>;
  /** An admin's block: inserts or replaces whatever entry (MANUAL or AUTO) has the same scope and prefix. */
  putManualPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow>;
  /**
   * The detector's block: inserts, or renews an AUTO entry (new expiry and reason, first createdAt
   * kept). Never replaces an unexpired MANUAL entry; returns null when one is in the way.
   */
  putAutoPrefixBlock(row: BlockedPrefixRow): Promise<BlockedPrefixRow | null>;
  /** Lifts a block (a country's with `country`); returns the removed entry or null. */
  removePrefixBlock(serviceId: string | null, prefix: string, country?: string | null): Promise<BlockedPrefixRow | null>;
}
