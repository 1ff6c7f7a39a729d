import type { AutoBlockEvent, AutoBlockLevel } from "../events/types.js";
import type { ProtectionLevel } from "../store/types.js";
import { isHealthy, type CountryHistory } from "./baselines.js";
import { PROTECTION_LEVELS, type DetectorThresholds } from "./protection-levels.js";
import type { CounterRead } from "./window-counter.js";

/**
 * The SMS-pumping detector's rules as pure functions: what a send's judgement reads (counter sums,
 * declared up front so they can be fetched in one batch), and what the counts say. No I/O here: the
 * detector (pumping-detector.ts) fetches the reads, calls these, and writes the blocks they return.
 *
 * A send is judged at three levels, each with its own counters and baseline:
 *   prefix   calling code + 3 national digits ("+998901"): what pumping rents;
 *   range    calling code + 2 national digits ("+99890", ten prefixes): an attack rotating over a range;
 *   country  the destination country: an attack spread over all of a country's ranges.
 * The narrowest level that explains an anomaly is blocked: a prefix when its own rule holds; for a
 * range, the range itself only when every prefix of it that sent is pumped (else just those pumped
 * prefixes, sparing the ones real users convert on); for a country, the range when one range carries
 * at least half of the country's unconverted volume, else the country.
 */

const MINUTE = 60_000;

/** The detector's windows. */
export interface DetectorWindows {
  /** The burst window of the prefix and range rules. @default 15 minutes */
  windowMs: number;
  /** The baseline and sustained-rule period. @default 24 hours */
  baselineMs: number;
  /** The country surge window ("converted sends per hour"). @default 1 hour */
  surgeMs: number;
}

export const DEFAULT_WINDOWS: DetectorWindows = { windowMs: 15 * MINUTE, baselineMs: 24 * 60 * MINUTE, surgeMs: 60 * MINUTE };

/** What one send is judged under. */
export interface Subject {
  serviceId: string;
  level: ProtectionLevel;
  /** Calling code + 3 national digits, e.g. "+998901". */
  prefix: string;
  /** Calling code + 2 national digits, e.g. "+99890" (the prefix without its last digit). */
  range: string;
  /** ISO alpha-2; null for numbers of no country (those are judged by prefix and range only). */
  country: string | null;
  /** Digits only, e.g. "998". */
  callingCode: string;
}

/** The subject of a number's prefix (phone.ts builds the prefix: calling code + 3 national digits). */
export function subjectOf(serviceId: string, level: ProtectionLevel, phone: { prefix: string; country: string | null; callingCode: string }): Subject {
  return { serviceId, level, prefix: phone.prefix, range: rangeOf(phone.prefix), country: phone.country, callingCode: phone.callingCode };
}

/** A prefix's range: one digit shorter (its ten siblings share it). */
export function rangeOf(prefix: string): string {
  return prefix.slice(0, -1);
}

/**
 * Counter keys, built visibly in one place (a Redis implementation stores them as they are). A unit
 * is a prefix as it is ("+998901"), a range as `R` + range ("R+99890"), a country as `C` + ISO code
 * ("CUZ"). No key holds a number: the narrowest is a prefix.
 */
export const detectorKeys = {
  sends: (serviceId: string, unit: string) => `pd:send:${serviceId}:${unit}`,
  approvals: (serviceId: string, unit: string) => `pd:ok:${serviceId}:${unit}`,
  /** Attempts an auto-block refused (they keep the block renewed). */
  refused: (serviceId: string, unit: string) => `pd:refused:${serviceId}:${unit}`,
};

/** The counter unit of each level. */
export const units = {
  prefix: (prefix: string) => prefix,
  range: (range: string) => `R${range}`,
  country: (country: string) => `C${country}`,
};

/** The counter units a send or an approval counts under, narrowest first. */
export function unitsOf(s: Pick<Subject, "prefix" | "range" | "country">): string[] {
  const out = [units.prefix(s.prefix), units.range(s.range)];
  if (s.country) out.push(units.country(s.country));
  return out;
}

/**
 * Where the rules get their sums: exactly the reads they declared (risk/window-counter.ts's
 * CounterReads), plus `pending` sends of `now` that are not in them yet (the send being judged: the
 * reads were taken before it was counted).
 */
export interface CountLookup {
  count(key: string, from: number, to: number): number;
}

/** A lookup that adds `pending` sends of `now` to every sum of sends that reaches `now`. */
function withPending(counts: CountLookup, now: number, pending: number): CountLookup {
  if (!pending) return counts;
  return { count: (key, from, to) => counts.count(key, from, to) + (to >= now && key.startsWith("pd:send:") ? pending : 0) };
}

/** The sums {@link judge} reads for one send. */
export function judgeReads(s: Subject, now: number, w: DetectorWindows = DEFAULT_WINDOWS): CounterRead[] {
  const out: CounterRead[] = [];
  for (const unit of [units.prefix(s.prefix), units.range(s.range)]) out.push(...unitReads(s.serviceId, unit, now, w));
  out.push(...spanReads(s.serviceId, units.range(s.range), now, w.surgeMs));
  if (s.country) {
    out.push(...spanReads(s.serviceId, units.country(s.country), now, w.surgeMs));
    out.push(...spanReads(s.serviceId, units.country(s.country), now, w.baselineMs));
  }
  return out;
}

/** A prefix or range rule's reads: the burst window, the baseline before it, the sustained period. */
function unitReads(serviceId: string, unit: string, now: number, w: DetectorWindows): CounterRead[] {
  return [
    ...spanReads(serviceId, unit, now, w.windowMs),
    { key: detectorKeys.sends(serviceId, unit), from: now - w.windowMs - w.baselineMs, to: now - w.windowMs - 1 },
    ...spanReads(serviceId, unit, now, w.baselineMs),
  ];
}

/** Sends and approvals of `unit` over the last `spanMs`. */
function spanReads(serviceId: string, unit: string, now: number, spanMs: number): CounterRead[] {
  return [
    { key: detectorKeys.sends(serviceId, unit), from: now - spanMs, to: now },
    { key: detectorKeys.approvals(serviceId, unit), from: now - spanMs, to: now },
  ];
}

/** What a rule found: where, which rule, the figures it weighed, and the reason a block will carry. */
export interface Finding {
  level: AutoBlockLevel;
  rule: string;
  figures: Record<string, number>;
  reason: string;
  /** Start of the window the rule judged (a range's prefixes are read over the same window). */
  since: number;
}

/**
 * Judges a send's prefix, range and country at the service's level, narrowest first, and returns
 * the first rule that holds (null: all healthy). A country finding that one range explains comes back
 * as a RANGE finding; a RANGE finding still has to be narrowed ({@link narrowRange}).
 * `history` is the service's record in the send's country (baselines.ts); none = a new destination.
 */
export function judge(
  s: Subject,
  reads: CountLookup,
  now: number,
  history: CountryHistory | undefined,
  opts: { pending?: number; windows?: DetectorWindows } = {},
): Finding | null {
  const t = PROTECTION_LEVELS[s.level].detector;
  const w = opts.windows ?? DEFAULT_WINDOWS;
  const counts = withPending(reads, now, opts.pending ?? 0);
  const prefix = judgeUnit(s, counts, now, w, t.prefix, units.prefix(s.prefix), "");
  if (prefix) return { ...prefix, level: "PREFIX" };
  const range = judgeUnit(s, counts, now, w, t.range, units.range(s.range), "range ");
  if (range) return { ...range, level: "RANGE", reason: range.reason.replace("): ", `): ${s.range}x: `) };
  return s.country ? judgeCountry(s, s.country, counts, now, history, w) : null;
}

/** The burst and sustained rules on one prefix or range. */
function judgeUnit(s: Subject, counts: CountLookup, now: number, w: DetectorWindows, t: DetectorThresholds, unit: string, label: string): Omit<Finding, "level"> | null {
  const { serviceId, level } = s;
  const W = w.windowMs;
  const sends = counts.count(detectorKeys.sends(serviceId, unit), now - W, now);
  if (sends >= t.minSends) {
    const approvals = counts.count(detectorKeys.approvals(serviceId, unit), now - W, now);
    const before = counts.count(detectorKeys.sends(serviceId, unit), now - W - w.baselineMs, now - W - 1);
    const baselinePerWindow = (before * W) / w.baselineMs;
    if (sends > t.volumeMultiplier * baselinePerWindow && approvals / sends < t.maxConversion) {
      return {
        rule: `${label}burst`,
        reason: `SMS pumping suspected (${level}, ${label}burst): ${sends} sends in ${W / MINUTE} min vs baseline ${baselinePerWindow.toFixed(1)}, ${pct(approvals, sends)} approved`,
        figures: { sends, approvals, baselinePerWindow: round1(baselinePerWindow), windowMinutes: W / MINUTE, minSends: t.minSends },
        since: now - W,
      };
    }
  }
  const daySends = counts.count(detectorKeys.sends(serviceId, unit), now - w.baselineMs, now);
  if (daySends >= t.sustainedMinSends) {
    const dayApprovals = counts.count(detectorKeys.approvals(serviceId, unit), now - w.baselineMs, now);
    if (dayApprovals / daySends < t.sustainedMaxConversion) {
      return {
        rule: `${label}sustained`,
        reason: `SMS pumping suspected (${level}, ${label}sustained): ${daySends} sends in ${w.baselineMs / (60 * MINUTE)} h, ${pct(dayApprovals, daySends)} approved`,
        figures: { sends: daySends, approvals: dayApprovals, windowMinutes: w.baselineMs / MINUTE, minSends: t.sustainedMinSends },
        since: now - w.baselineMs,
      };
    }
  }
  return null;
}

/**
 * The country rules: a surge of unconverted sends within the hour, or a sustained one within the
 * day, beyond what the service's own history there makes normal (or the floor, for a new
 * destination), while the conversion has collapsed. When the send's range carries at least half of
 * that unconverted volume, the range explains it and is judged instead of the country.
 */
function judgeCountry(s: Subject, country: string, counts: CountLookup, now: number, history: CountryHistory | undefined, w: DetectorWindows): Finding | null {
  const t = PROTECTION_LEVELS[s.level].detector.country;
  // Where the service's users convert, a country block would refuse them too: such a country needs
  // twice the floor before it is judged (a single hammering client, capped by the per-IP limit,
  // never gets there), and then the attack must still outweigh its real traffic (the conversion test).
  const floorScale = isHealthy(history) ? 2 : 1;
  const rules = [
    { rule: "surge", spanMs: w.surgeMs, floor: floorScale * t.floorPerHour, busiest: history?.hourMax ?? 0, maxConversion: t.maxConversion, per: "hour" },
    { rule: "sustained", spanMs: w.baselineMs, floor: floorScale * t.floorPerDay, busiest: history?.dayMax ?? 0, maxConversion: t.sustainedMaxConversion, per: "day" },
  ];
  for (const r of rules) {
    const from = now - r.spanMs;
    const sends = counts.count(detectorKeys.sends(s.serviceId, units.country(country)), from, now);
    const approvals = counts.count(detectorKeys.approvals(s.serviceId, units.country(country)), from, now);
    const unconverted = sends - approvals;
    const threshold = Math.max(r.floor, t.baselineScale * r.busiest);
    if (unconverted < threshold || approvals / sends >= r.maxConversion) continue;
    const figures = { sends, approvals, unconverted, threshold, busiestConverted: r.busiest, windowMinutes: r.spanMs / MINUTE };
    const floorName = floorScale > 1 ? "floor of a converting country" : "floor";
    const basis = r.busiest * t.baselineScale > r.floor ? `${t.baselineScale} × busiest converted ${r.per} in 14 days (${r.busiest})` : `${floorName}; busiest converted ${r.per} in 14 days: ${r.busiest}`;
    const span = r.spanMs >= 60 * MINUTE ? `${r.spanMs / (60 * MINUTE)} h` : `${r.spanMs / MINUTE} min`;
    const reason = `SMS pumping suspected (${s.level}, country ${r.rule}): ${unconverted} unconverted sends to ${country} in ${span}, threshold ${threshold} (${basis}), ${pct(approvals, sends)} approved`;
    // The narrowest level that explains it: the send's range, when it carries half of the volume.
    const rangeSends = counts.count(detectorKeys.sends(s.serviceId, units.range(s.range)), from, now);
    const rangeUnconverted = rangeSends - counts.count(detectorKeys.approvals(s.serviceId, units.range(s.range)), from, now);
    if (2 * rangeUnconverted >= unconverted) {
      return { level: "RANGE", rule: `country ${r.rule}`, figures: { ...figures, rangeUnconverted }, reason: `${reason}; ${rangeUnconverted} of them to ${s.range}x`, since: from };
    }
    return { level: "COUNTRY", rule: `country ${r.rule}`, figures, reason, since: from };
  }
  return null;
}

/** The reads that tell a range's pumped prefixes from healthy ones: each of its ten prefixes. */
export function childReads(s: Subject, finding: Finding, now: number, w: DetectorWindows = DEFAULT_WINDOWS): CounterRead[] {
  return childPrefixes(s.range).flatMap((p) => [
    { key: detectorKeys.sends(s.serviceId, units.prefix(p)), from: finding.since, to: now },
    { key: detectorKeys.approvals(s.serviceId, units.prefix(p)), from: now - w.baselineMs, to: now },
  ]);
}

function childPrefixes(range: string): string[] {
  return Array.from({ length: 10 }, (_, d) => `${range}${d}`);
}

/** A block to write: its level, the prefix or range (or, for a country, the calling code), and why (the event's shape, less the expiry). */
export type AutoBlock = Omit<AutoBlockEvent, "expiresAt">;

/** The block a PREFIX or COUNTRY finding asks for. */
export function blockFor(s: Subject, f: Finding): AutoBlock {
  const prefix = f.level === "COUNTRY" ? `+${s.callingCode}` : s.prefix;
  return { level: f.level, prefix, country: s.country, rule: f.rule, reason: f.reason, figures: f.figures };
}

/**
 * Narrows a RANGE finding to what explains it. A prefix of the range is pumped when it sent within
 * the finding's window and converted nobody within the day; healthy when someone converted on it.
 *  - no healthy prefix: the range, when two or more prefixes are pumped ("every sub-prefix that
 *    sent is pumped"); a single pumped prefix is blocked alone;
 *  - healthy prefixes too: only the pumped ones, so the real users of the range keep their codes.
 */
export function narrowRange(s: Subject, f: Finding, reads: CountLookup, now: number, opts: { pending?: number; windows?: DetectorWindows } = {}): AutoBlock[] {
  const w = opts.windows ?? DEFAULT_WINDOWS;
  const counts = withPending(reads, now, 0);
  const pending = opts.pending ?? 0;
  const kids = childPrefixes(s.range).map((p) => ({
    prefix: p,
    sends: counts.count(detectorKeys.sends(s.serviceId, units.prefix(p)), f.since, now) + (p === s.prefix ? pending : 0),
    approvals: counts.count(detectorKeys.approvals(s.serviceId, units.prefix(p)), now - w.baselineMs, now),
  }));
  const pumped = kids.filter((k) => k.sends > 0 && k.approvals === 0);
  const healthy = kids.filter((k) => k.approvals > 0);
  const figures = { ...f.figures, pumpedPrefixes: pumped.length, healthyPrefixes: healthy.length };
  if (healthy.length === 0 && pumped.length >= 2) {
    return [{ level: "RANGE", prefix: s.range, country: s.country, rule: f.rule, reason: `${f.reason}; all ${pumped.length} of its prefixes that sent are pumped`, figures }];
  }
  const targets = pumped.length ? pumped : kids.filter((k) => k.prefix === s.prefix);
  const why = healthy.length ? `; blocked its ${pumped.length} pumped prefixes, spared ${healthy.length} where users convert` : "; one prefix explains it";
  return targets.map((k) => ({ level: "PREFIX" as const, prefix: k.prefix, country: s.country, rule: f.rule, reason: `${f.reason}${why}`, figures: { ...figures, prefixSends: k.sends } }));
}

/**
 * Whether an auto-block's refused attempts say the attack goes on: as many refused attempts within
 * the burst window as the prefix burst rule needs, or within the day as its sustained rule needs (a
 * slow drip keeps its block too).
 */
export function attackContinues(level: ProtectionLevel, refusedInWindow: number, refusedInDay: number): boolean {
  const t = PROTECTION_LEVELS[level].detector.prefix;
  return refusedInWindow >= t.minSends || refusedInDay >= t.sustainedMinSends;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function pct(n: number, d: number): string {
  return `${Math.round((100 * Math.max(0, n)) / Math.max(1, d))}%`;
}
