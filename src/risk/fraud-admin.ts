import { getCountryCallingCode, isSupportedCountry, parsePhoneNumberWithError, type CountryCode } from "libphonenumber-js/max";
import type { Clock } from "../clock.js";
import { AppError, invalidParameter } from "../errors.js";
import { parsePhone } from "../phone.js";
import type { BlockedPrefixRow, FraudStore, GeoPermission, GeoPermissionRow, SafeNumberRow } from "../store/fraud.js";
import type { Channel, ProtectionLevel } from "../store/types.js";
import type { Services } from "../verification/services.js";
import { DEFAULT_BLOCKED_COUNTRIES, defaultGeoPermission, NON_GEOGRAPHIC_COUNTRY } from "./geo-defaults.js";
import { DEFAULT_PROTECTION_LEVEL } from "./protection-levels.js";
import { SAFE_RANGE_SUFFIX } from "./stages/safe-list.js";
import type { PumpingDetector } from "./pumping-detector.js";

/** A service's effective geo permission for one destination, and whether an admin chose it. */
export interface GeoPermissionView {
  country: string;
  channel: Channel;
  permission: GeoPermission;
  source: "DEFAULT" | "ADMIN";
  updatedAt: number | null;
}

/** A service's fraud-guard settings. */
export interface FraudSettingsView {
  serviceId: string;
  protectionLevel: ProtectionLevel;
  shadowStages: string[];
  /** Stage names `setShadowStages` accepts (the same for every service). */
  shadowableStages: string[];
}

/** Stages that make no decision of their own and so cannot be shadowed (the request needs their output). */
const NOT_SHADOWABLE = new Set(["phone", "safe-list"]);
const CHANNELS: Channel[] = ["SMS", "CALL"];
const MAX_GEO_ENTRIES = 1_000;

/**
 * The admin operations of the fraud stages: safe list, geo permissions, blocked prefixes, the
 * protection level and shadow mode. Settings take effect on the next request on every instance
 * (stages read them from the store on each request; nothing is cached in process).
 */
export class FraudAdmin {
  /** Stage names `setShadowStages` accepts. */
  readonly shadowableStages: string[];

  constructor(
    private readonly d: { store: FraudStore; services: Services; detector: PumpingDetector; clock: Clock; stageNames: string[] },
  ) {
    this.shadowableStages = d.stageNames.filter((s) => !NOT_SHADOWABLE.has(s));
  }

  /** Adds a number (E.164) or a 1,000-number range (`+14155551xxx`); adding again replaces the note. */
  async addSafeNumber(number: string, note: string | null): Promise<SafeNumberRow> {
    if (note !== null && note.length > 200) throw invalidParameter("note", "at most 200 characters");
    return this.d.store.addSafeNumber({ number: safeEntry(number), note, createdAt: this.d.clock.now() });
  }

  async removeSafeNumber(number: string): Promise<boolean> {
    return this.d.store.removeSafeNumber(safeEntry(number));
  }

  /** The entry as stored (E.164 or a range) when it is on the safe list; 20404 when not. */
  async safeNumber(number: string): Promise<string> {
    const entry = safeEntry(number);
    if (!(await this.d.store.isSafeNumber(entry))) throw new AppError("NOT_FOUND", "The number is not on the safe list");
    return entry;
  }

  listSafeNumbers(): Promise<SafeNumberRow[]> {
    return this.d.store.listSafeNumbers();
  }

  /**
   * The service's non-MONITOR and admin-set permissions: every admin choice, plus the default BLOCKs
   * no admin overrode. A destination not listed is MONITOR.
   */
  async geoPermissions(serviceId: string): Promise<GeoPermissionView[]> {
    await this.d.services.get(serviceId);
    const chosen = await this.d.store.listGeoPermissions(serviceId);
    const out: GeoPermissionView[] = chosen.map((r) => ({ country: r.country, channel: r.channel, permission: r.permission, source: "ADMIN", updatedAt: r.updatedAt }));
    const has = new Set(chosen.map((r) => `${r.country}:${r.channel}`));
    for (const country of Object.keys(DEFAULT_BLOCKED_COUNTRIES)) {
      for (const channel of CHANNELS) {
        if (!has.has(`${country}:${channel}`)) out.push({ country, channel, permission: defaultGeoPermission(country, channel), source: "DEFAULT", updatedAt: null });
      }
    }
    return out.sort((a, b) => a.country.localeCompare(b.country) || a.channel.localeCompare(b.channel));
  }

  /** Sets permissions (all or nothing); a later entry for the same country and channel wins. */
  async setGeoPermissions(serviceId: string, entries: { country: string; channel: Channel; permission: GeoPermission }[]): Promise<GeoPermissionView[]> {
    await this.d.services.get(serviceId);
    if (entries.length === 0 || entries.length > MAX_GEO_ENTRIES) throw invalidParameter("permissions", `1 to ${MAX_GEO_ENTRIES} entries`);
    const now = this.d.clock.now();
    const rows = new Map<string, GeoPermissionRow>();
    for (const e of entries) {
      const country = geoCountry(e.country);
      rows.set(`${country}:${e.channel}`, { serviceId, country, channel: e.channel, permission: e.permission, updatedAt: now });
    }
    await this.d.store.setGeoPermissions([...rows.values()]);
    return this.geoPermissions(serviceId);
  }

  /** Returns the given countries (all when omitted) to their defaults. */
  async resetGeoPermissions(serviceId: string, countries: string[] | null): Promise<GeoPermissionView[]> {
    await this.d.services.get(serviceId);
    await this.d.store.resetGeoPermissions(serviceId, countries?.map(geoCountry));
    return this.geoPermissions(serviceId);
  }

  async blockPrefix(input: { prefix: string; serviceId: string | null; reason: string; expiresAt: number | null }): Promise<BlockedPrefixRow> {
    const prefix = checkPrefix(input.prefix);
    const reason = input.reason.trim();
    if (reason.length < 1 || reason.length > 200) throw invalidParameter("reason", "1 to 200 characters");
    const now = this.d.clock.now();
    if (input.expiresAt !== null && input.expiresAt <= now) throw invalidParameter("expiresAt", "must be in the future");
    if (input.serviceId) await this.d.services.get(input.serviceId);
    return this.d.store.putManualPrefixBlock({
      serviceId: input.serviceId,
      prefix,
      country: null,
      source: "MANUAL",
      reason,
      level: null,
      rule: null,
      figures: null,
      createdAt: now,
      updatedAt: now,
      expiresAt: input.expiresAt,
    });
  }

  /**
   * Lifts a prefix or range block (MANUAL or AUTO). The detector also forgets that prefix's (or
   * range's) counters, so a lifted auto-block is judged afresh instead of coming straight back on the
   * next send.
   */
  async unblockPrefix(prefix: string, serviceId: string | null): Promise<boolean> {
    const p = checkPrefix(prefix);
    const removed = await this.d.store.removePrefixBlock(serviceId, p);
    if (serviceId) await this.d.detector.forget(serviceId, removed ?? { prefix: p, country: null, level: null });
    return removed !== null;
  }

  /**
   * Lifts a service's automatic country block (the detector's temporary block of a whole destination)
   * and forgets the country's counters, so it is judged afresh. False when there was none. To keep a
   * country closed, use geo permissions; to keep the detector off it, set it to ALLOW.
   */
  async unblockCountry(serviceId: string, country: string): Promise<boolean> {
    await this.d.services.get(serviceId);
    const c = geoCountry(country);
    if (c === NON_GEOGRAPHIC_COUNTRY) return false;
    const removed = await this.d.store.removePrefixBlock(serviceId, `+${getCountryCallingCode(c as CountryCode)}`, c);
    await this.d.detector.forget(serviceId, removed ?? { prefix: "", country: c, level: "COUNTRY" });
    return removed !== null;
  }

  blockedPrefixes(serviceId: string | null): Promise<BlockedPrefixRow[]> {
    return this.d.store.listPrefixBlocks(this.d.clock.now(), serviceId ?? undefined);
  }

  async settings(serviceId: string): Promise<FraudSettingsView> {
    const s = await this.d.services.get(serviceId);
    return {
      serviceId,
      protectionLevel: s.riskSettings.protectionLevel ?? DEFAULT_PROTECTION_LEVEL,
      shadowStages: s.riskSettings.shadowStages ?? [],
      shadowableStages: this.shadowableStages,
    };
  }

  async setProtectionLevel(serviceId: string, level: ProtectionLevel): Promise<FraudSettingsView> {
    await this.d.services.updateRiskSettings(serviceId, { protectionLevel: level });
    return this.settings(serviceId);
  }

  /** Replaces the service's shadowed stages (an empty list enforces every stage). */
  async setShadowStages(serviceId: string, stages: string[]): Promise<FraudSettingsView> {
    const allowed = this.shadowableStages;
    for (const s of stages) if (!allowed.includes(s)) throw invalidParameter("stages", `unknown or unshadowable stage "${s}"; one of ${allowed.join(", ")}`);
    await this.d.services.updateRiskSettings(serviceId, { shadowStages: [...new Set(stages)] });
    return this.settings(serviceId);
  }
}

/**
 * A safe-list entry: a number in E.164, or a 1,000-number range written as Twilio's Global Safe List
 * writes it, the number with its last three digits `xxx` (`+14155551xxx`; at least 10 characters).
 * A range must be one whose numbers can exist (its `…000` is a possible number of its calling code).
 */
function safeEntry(raw: string): string {
  const trimmed = raw.trim();
  if (/x{3}$/i.test(trimmed)) {
    const head = trimmed.slice(0, -3);
    if (!/^\+[1-9]\d{5,11}$/.test(head)) throw invalidParameter("number", "a range is + and 6 to 12 digits followed by xxx, e.g. +14155551xxx");
    let possible = false;
    try {
      possible = parsePhoneNumberWithError(head + "000").isPossible();
    } catch {
      possible = false;
    }
    if (!possible) throw invalidParameter("number", "the range holds no possible phone number");
    return head + SAFE_RANGE_SUFFIX;
  }
  const parsed = parsePhone(trimmed);
  if (!parsed.ok) throw invalidParameter("number", parsed.reason);
  return parsed.phone.e164;
}

/** An ISO 3166-1 alpha-2 code libphonenumber knows, or "001" (non-geographic). */
function geoCountry(raw: string): string {
  const c = raw.trim().toUpperCase();
  if (c === NON_GEOGRAPHIC_COUNTRY || (/^[A-Z]{2}$/.test(c) && isSupportedCountry(c))) return c;
  throw invalidParameter("country", `"${raw}" is not an ISO 3166-1 alpha-2 country code with phone numbers (or 001)`);
}

/** "+" then 1 to 15 digits, the first not 0 (E.164 has no country code 0). */
function checkPrefix(raw: string): string {
  const p = raw.trim();
  if (!/^\+[1-9]\d{0,14}$/.test(p)) throw invalidParameter("prefix", "must be + followed by 1 to 15 digits, e.g. +2217");
  return p;
}
