import { AppError, invalidParameter } from "../errors.js";
import { toMicros, type PriceLookup } from "../risk/prices.js";
import type { AggregateRow, DecisionCounters, StatsDimension, StatsStore } from "../store/stats.js";
import { DAY_MS } from "../store/stats.js";
import type { Store } from "../store/types.js";
import type { SpendStore } from "../store/limits.js";
import { sharesOf, type ShareSpend } from "../risk/limits-admin.js";
import { utcDay } from "../risk/stages/spend-guard.js";

/** The longest range one report covers; with HOUR grouping, the longest range of hourly rows. */
export const MAX_RANGE_DAYS = 400;
export const MAX_HOURLY_RANGE_DAYS = 31;
/** Dimensions one report may combine (the product of their cardinalities is what the server builds). */
export const MAX_GROUP_BY = 3;

/** One group of a report: its dimensions (null when not grouped by), counters, rate and money saved. */
export interface FraudStatsRow extends DecisionCounters {
  country: string | null;
  prefix: string | null;
  stage: string | null;
  errorCode: number | null;
  channel: string | null;
  hour: number | null;
  day: number | null;
  /** converted / sends × 100, rounded to 2 decimals; null when nothing was sent. */
  conversionRatePercentage: number | null;
  /** Prevented sends priced by destination country and channel (the admin's price table), in USD. */
  savedUsd: number;
}

export interface FraudStatsInput {
  serviceId: string | null;
  from: number;
  until: number;
  groupBy: StatsDimension[];
}

export interface SummaryInput {
  serviceId: string | null;
  from: number | null;
  until: number | null;
  country: string | null;
  /** SMS or CALL (any other channel has no sends here). */
  channel?: string | null;
  /** Only numbers starting with this, e.g. "+44" or "+4474": no finer than the tracked prefixes (calling code and 3 digits). */
  destinationPrefix?: string | null;
}

/** Twilio's Verification Attempts Summary: sends, and how many of them were converted (approved). */
export interface AttemptsSummary {
  totalAttempts: number;
  totalConverted: number;
  totalUnconverted: number;
  conversionRatePercentage: number | null;
}

export interface FraudStatsDeps {
  stats: StatsStore;
  store: Pick<Store, "getService">;
  /** The spend ledger: what each budget share spent over the report's days. */
  spend: Pick<SpendStore, "listSpend">;
  /** The price table (risk/prices.ts): one snapshot per report prices every prevented send. */
  prices: { snapshot(): Promise<PriceLookup> };
}

/**
 * The admin's fraud view over the decision log: grouped counters, the top blocked prefixes and
 * countries, the sends the guard prevented and the money that saved, and Twilio's conversion summary.
 * Every number comes from the store's roll-ups (store/stats.ts); this class validates the question,
 * prices prevented sends and folds groups.
 */
export class FraudStats {
  constructor(private readonly d: FraudStatsDeps) {}

  /** Validates a report's parameters; its parts are computed when read (only what the caller asks for). */
  async report(input: FraudStatsInput): Promise<FraudReport> {
    const groupBy = [...new Set(input.groupBy)];
    if (groupBy.length > MAX_GROUP_BY) throw invalidParameter("groupBy", `at most ${MAX_GROUP_BY} dimensions`);
    if (groupBy.includes("PREFIX") && groupBy.includes("HOUR")) throw invalidParameter("groupBy", "PREFIX is rolled up per day: combine it with DAY, not HOUR");
    checkRange(input.from, input.until, groupBy.includes("HOUR") ? MAX_HOURLY_RANGE_DAYS : MAX_RANGE_DAYS);
    if (input.serviceId) await this.requireService(input.serviceId);
    return new FraudReport(this.d, { ...input, groupBy });
  }

  /** Twilio-style summary: attempts are sends (allowed starts); converted ones were approved later. */
  async summary(input: SummaryInput): Promise<AttemptsSummary> {
    const from = input.from ?? 0;
    const until = input.until ?? Number.MAX_SAFE_INTEGER;
    if (from >= until) throw invalidParameter("from", "must be before until");
    const prefix = input.destinationPrefix ?? null;
    if (prefix !== null && !/^\+[1-9]\d{0,14}$/.test(prefix)) throw invalidParameter("destinationPrefix", "must be + and 1 to 15 digits, e.g. +44");
    if (input.serviceId) await this.requireService(input.serviceId);
    // Channel and prefix are dimensions of the roll-ups: group by them and keep the matching groups.
    const groupBy: StatsDimension[] = [...(input.channel ? (["CHANNEL"] as const) : []), ...(prefix ? (["PREFIX"] as const) : [])];
    const rows = await this.d.stats.aggregate({ serviceId: input.serviceId, from, until, country: normalizeCountry(input.country), groupBy });
    const matching = rows.filter((r) => (!input.channel || r.channel === input.channel) && (!prefix || (r.prefix ?? "").startsWith(prefix)));
    if (prefix && rows.some((r) => r.prefix && prefix.startsWith(r.prefix) && prefix !== r.prefix)) {
      throw invalidParameter("destinationPrefix", "finer than the tracked prefixes (calling code and 3 digits)");
    }
    const sends = matching.reduce((n, r) => n + r.sends, 0);
    const converted = matching.reduce((n, r) => n + r.converted, 0);
    return { totalAttempts: sends, totalConverted: converted, totalUnconverted: sends - converted, conversionRatePercentage: rate(converted, sends) };
  }

  private async requireService(id: string): Promise<void> {
    if (!(await this.d.store.getService(id))) throw new AppError("NOT_FOUND", "Service not found");
  }
}

/**
 * One validated report. Each part runs its queries once, on first use, and only if it is asked for.
 * Counters are read grouped by exactly the report's dimensions; the money saved comes from a second,
 * small read of the blocked decisions only, grouped further by country and channel (what a send costs
 * depends on both), so a report never multiplies its groups by countries × channels to price them.
 */
export class FraudReport {
  private readonly reads = new Map<string, Promise<AggregateRow[]>>();
  private grouped?: Promise<FraudStatsRow[]>;
  private prices?: Promise<PriceLookup>;

  constructor(
    private readonly d: FraudStatsDeps,
    readonly input: FraudStatsInput,
  ) {}

  /** Groups sorted by time (when grouped by HOUR or DAY), then by decisions, largest first. */
  async rows(limit: number): Promise<FraudStatsRow[]> {
    const n = checkLimit("limit", limit, 1000);
    return (await this.groups()).slice(0, n);
  }

  /** How many groups there are in all (rows returns at most `limit` of them). */
  async groupCount(): Promise<number> {
    return (await this.groups()).length;
  }

  /** Every decision in the range as one row: the groups partition the range, so they add up to it. */
  async totals(): Promise<FraudStatsRow> {
    const total = emptyRow();
    let savedMicros = 0;
    for (const g of await this.groups()) {
      for (const c of COUNTERS) total[c] += g[c];
      savedMicros += Math.round(g.savedUsd * 1_000_000);
    }
    return { ...total, savedUsd: savedMicros / 1_000_000, conversionRatePercentage: rate(total.converted, total.sends) };
  }

  /**
   * Estimated spend per budget share (risk/stages/spend-guard.ts) over the UTC days the range touches:
   * the spend ledger is kept per day, so a range that starts or ends within a day counts that whole day.
   */
  async spendByShare(): Promise<ShareSpend[]> {
    const { from, until, serviceId } = this.input;
    const rows = await this.d.spend.listSpend(serviceId, utcDay(from), utcDay(until - 1));
    const total = { usdMicros: 0, sends: 0, cappedUsdMicros: 0, cappedSends: 0 };
    for (const r of rows) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
    return sharesOf(total);
  }

  /** Prefixes (with their country) with the most blocked decisions; counters of blocked decisions only. */
  async topBlockedPrefixes(limit: number): Promise<FraudStatsRow[]> {
    return this.topBlocked(["PREFIX", "COUNTRY"], limit);
  }

  /** Countries with the most blocked decisions; counters of blocked decisions only. */
  async topBlockedCountries(limit: number): Promise<FraudStatsRow[]> {
    return this.topBlocked(["COUNTRY"], limit);
  }

  private async topBlocked(dims: StatsDimension[], limit: number): Promise<FraudStatsRow[]> {
    const n = checkLimit("limit", limit, 100);
    const [blocked, prices] = await Promise.all([this.read(withPricing(dims), true), this.priceLookup()]);
    const saved = savings(blocked, dims, prices);
    return fold(blocked, dims, saved)
      // A number that could not be parsed has no prefix or country: nothing to rank.
      .filter((r) => r.blocked > 0 && r[DIM_FIELD[dims[0]!]] !== null)
      .sort((a, b) => b.blocked - a.blocked || b.savedUsd - a.savedUsd || keyOf(a, dims).localeCompare(keyOf(b, dims)))
      .slice(0, n);
  }

  private groups(): Promise<FraudStatsRow[]> {
    this.grouped ??= (async () => {
      const dims = this.input.groupBy;
      const [counters, blocked, prices] = await Promise.all([this.read(dims, false), this.read(withPricing(dims), true), this.priceLookup()]);
      const time = dims.includes("HOUR") ? "hour" : dims.includes("DAY") ? "day" : null;
      return fold(counters, dims, savings(blocked, dims, prices)).sort(
        (a, b) => (time ? (a[time] ?? 0) - (b[time] ?? 0) : 0) || b.decisions - a.decisions || keyOf(a, dims).localeCompare(keyOf(b, dims)),
      );
    })();
    return this.grouped;
  }

  /** One store read, shared by every part that needs the same grouping. */
  private read(groupBy: StatsDimension[], blockedOnly: boolean): Promise<AggregateRow[]> {
    const key = `${groupBy.join(",")}|${blockedOnly}`;
    let r = this.reads.get(key);
    if (!r) {
      r = this.d.stats.aggregate({ serviceId: this.input.serviceId, from: this.input.from, until: this.input.until, groupBy, blockedOnly });
      this.reads.set(key, r);
    }
    return r;
  }

  private priceLookup(): Promise<PriceLookup> {
    this.prices ??= this.d.prices.snapshot();
    return this.prices;
  }
}

const DIM_FIELD: Record<StatsDimension, keyof FraudStatsRow> = {
  COUNTRY: "country",
  PREFIX: "prefix",
  STAGE: "stage",
  ERROR_CODE: "errorCode",
  CHANNEL: "channel",
  HOUR: "hour",
  DAY: "day",
};

/** The dimensions plus country and channel: what pricing a send needs. */
function withPricing(dims: StatsDimension[]): StatsDimension[] {
  return [...new Set<StatsDimension>([...dims, "COUNTRY", "CHANNEL"])];
}

function groupKey(r: AggregateRow | FraudStatsRow, dims: StatsDimension[]): string {
  return dims.map((d) => String(r[DIM_FIELD[d] as keyof AggregateRow])).join("\u0000");
}

/** Micro-dollars the prevented sends of each group (by `dims`) would have cost. */
function savings(rows: AggregateRow[], dims: StatsDimension[], prices: PriceLookup): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    if (!r.prevented || (r.channel !== "SMS" && r.channel !== "CALL")) continue;
    const key = groupKey(r, dims);
    out.set(key, (out.get(key) ?? 0) + r.prevented * toMicros(prices.price(r.country, r.channel)));
  }
  return out;
}

/** Adds up store rows into groups of `dims`, with each group's money saved. */
function fold(rows: AggregateRow[], dims: StatsDimension[], savedMicros: Map<string, number>): FraudStatsRow[] {
  const groups = new Map<string, FraudStatsRow>();
  for (const r of rows) {
    const key = groupKey(r, dims);
    let g = groups.get(key);
    if (!g) {
      g = emptyRow();
      for (const d of dims) (g as unknown as Record<string, unknown>)[DIM_FIELD[d]] = r[DIM_FIELD[d] as keyof AggregateRow];
      groups.set(key, g);
    }
    for (const c of COUNTERS) g[c] += r[c];
  }
  return [...groups.entries()].map(([key, g]) => ({ ...g, savedUsd: (savedMicros.get(key) ?? 0) / 1_000_000, conversionRatePercentage: rate(g.converted, g.sends) }));
}

const COUNTERS = ["decisions", "allowed", "blocked", "sends", "checks", "prevented", "converted", "approvals", "shadowed"] as const;

function emptyRow(): FraudStatsRow {
  return {
    country: null, prefix: null, stage: null, errorCode: null, channel: null, hour: null, day: null,
    decisions: 0, allowed: 0, blocked: 0, sends: 0, checks: 0, prevented: 0, converted: 0, approvals: 0, shadowed: 0,
    conversionRatePercentage: null, savedUsd: 0,
  };
}

function keyOf(r: FraudStatsRow, dims: StatsDimension[]): string {
  return dims.map((d) => String(r[DIM_FIELD[d]] ?? "")).join(" ");
}

function rate(part: number, whole: number): number | null {
  return whole ? Math.round((part / whole) * 10_000) / 100 : null;
}

function checkRange(from: number, until: number, maxDays: number): void {
  if (!(from < until)) throw invalidParameter("from", "must be before until");
  if (until - from > maxDays * DAY_MS) throw invalidParameter("until", `the range may span at most ${maxDays} days for this grouping`);
}

function checkLimit(field: string, n: number, max: number): number {
  if (!Number.isInteger(n) || n < 1 || n > max) throw invalidParameter(field, `must be from 1 to ${max}`);
  return n;
}

/** ISO alpha-2, upper case; anything else is a caller's mistake. */
export function normalizeCountry(country: string | null | undefined): string | null {
  if (country == null) return null;
  const c = country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(c)) throw invalidParameter("country", "must be an ISO 3166-1 alpha-2 code such as US");
  return c;
}
