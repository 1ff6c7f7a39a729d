import { COUNTERS } from "./rollups.js";
import type { RiskDecisionRow } from "./types.js";

/**
 * Read side of the decision log (risk_decisions): fraud statistics, the attempts log and the
 * conversion summary. Chosen in the composition root next to the {@link Store}.
 *
 * Contract every implementation keeps:
 * - Aggregates never scan the log for a whole range. They add up roll-ups (per hour, per UTC day, and
 *   per UTC day and prefix) kept in step with the log on every insert and every `converted` change,
 *   and read raw decisions only for the partial hours (or, with PREFIX, partial days) at the ends of
 *   the range: see {@link planSegments}. Results are exact for any `from` and `until`.
 * - The log is paged newest first by (createdAt, id), keyset, never OFFSET; each filter has an index
 *   ending in those two columns.
 */
export interface StatsStore {
  /** Counters over [from, until), grouped by `groupBy` (no group = one row, even when all zero). */
  aggregate(q: AggregateQuery): Promise<AggregateRow[]>;
  /** Up to `limit` decisions matching `filter`, newest first, strictly after `after` when given. */
  listDecisions(q: { filter: DecisionFilter; after: DecisionCursor | null; limit: number }): Promise<RiskDecisionRow[]>;
  /** The decision of an allowed start by its send attempt's SID (VL…), or any decision by its own id (VD…). */
  getDecision(sid: string): Promise<RiskDecisionRow | null>;
}

/** What statistics can be grouped by. HOUR and DAY are UTC buckets. */
export type StatsDimension = "COUNTRY" | "PREFIX" | "STAGE" | "ERROR_CODE" | "CHANNEL" | "HOUR" | "DAY";

/** Counters of one group. */
export interface DecisionCounters {
  /** Every decision: starts and checks, allowed and blocked. */
  decisions: number;
  allowed: number;
  blocked: number;
  /** Allowed starts: each sent a code (a first send or a resend). */
  sends: number;
  checks: number;
  /** Blocked starts except invalid input (60200, which could never be sent): sends the guard prevented. */
  prevented: number;
  /** Sends whose verification was later approved (Twilio's converted attempts). */
  converted: number;
  /** Verifications approved, each counted once, in the group of its first send. */
  approvals: number;
  /** Allowed decisions that a stage in shadow mode would have blocked. */
  shadowed: number;
}

export interface AggregateQuery {
  /** null = every service. */
  serviceId: string | null;
  /** Milliseconds since the epoch: from inclusive, until exclusive. */
  from: number;
  until: number;
  /** Only decisions for numbers of this country (ISO alpha-2). */
  country?: string | null;
  /** Only blocked decisions (the top-blocked lists, and pricing the prevented sends). */
  blockedOnly?: boolean;
  /** PREFIX cannot be combined with HOUR (prefixes are rolled up per day). */
  groupBy: StatsDimension[];
}

/** One group: the dimensions it was grouped by are set, the others null. */
export interface AggregateRow extends DecisionCounters {
  country: string | null;
  prefix: string | null;
  stage: string | null;
  errorCode: number | null;
  channel: string | null;
  /** Start of the hour / UTC day, milliseconds since the epoch. */
  hour: number | null;
  day: number | null;
}

/** Filter of the attempts log; every field narrows. */
export interface DecisionFilter {
  serviceId?: string | null;
  /** The number, E.164. */
  to?: string | null;
  country?: string | null;
  kind?: "START" | "CHECK" | null;
  outcome?: "ALLOWED" | "BLOCKED" | null;
  stage?: string | null;
  errorCode?: number | null;
  verificationId?: string | null;
  channel?: string | null;
  /** Only decisions whose verification was (true) or was not (false) approved later. */
  converted?: boolean | null;
  /** Milliseconds since the epoch: from inclusive, until exclusive. */
  from?: number | null;
  until?: number | null;
}

/** Position in the log: the last row a page ended at. */
export interface DecisionCursor {
  createdAt: number;
  id: string;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Where a stretch of time is read from: a roll-up, or the log itself for partial buckets. */
export type SegmentSource = "LOG" | "HOUR" | "DAY" | "PREFIX_DAY";

export interface Segment {
  source: SegmentSource;
  from: number;
  until: number;
}

/**
 * Splits [from, until) into the coarsest pieces that answer the grouping: whole UTC days from the
 * daily roll-ups, whole hours at the ends from the hourly ones, and the partial hours at the very ends
 * from the log. HOUR grouping cannot use days; PREFIX grouping has only daily prefix roll-ups, so its
 * partial days come from the log. At most two LOG segments, each shorter than one bucket.
 */
export function planSegments(q: Pick<AggregateQuery, "from" | "until" | "groupBy">): Segment[] {
  const levels: [SegmentSource, number][] = q.groupBy.includes("PREFIX")
    ? [["PREFIX_DAY", DAY_MS]]
    : q.groupBy.includes("HOUR")
      ? [["HOUR", HOUR_MS]]
      : [
          ["DAY", DAY_MS],
          ["HOUR", HOUR_MS],
        ];
  const out: Segment[] = [];
  const cover = (from: number, until: number, finer: [SegmentSource, number][]): void => {
    if (from >= until) return;
    const [level, ...rest] = finer;
    if (!level) {
      out.push({ source: "LOG", from, until });
      return;
    }
    const [source, unit] = level;
    const a = Math.ceil(from / unit) * unit;
    const b = Math.floor(until / unit) * unit;
    if (a >= b) return cover(from, until, rest);
    cover(from, a, rest);
    out.push({ source, from: a, until: b });
    cover(b, until, rest);
  };
  cover(q.from, q.until, levels);
  return out;
}

/** Counter columns every segment yields, in this order (`blocked` is derived: decisions - allowed). */
export const SEGMENT_COUNTERS = COUNTERS;

/**
 * How each dimension is selected from the union of segments (t = the row's time or bucket start), in
 * SQL both dialects read the same way; `numeric` columns may arrive as strings (PostgreSQL bigint).
 */
export const DIMENSION_SQL: Record<StatsDimension, { column: keyof AggregateRow; expr: string; numeric: boolean }> = {
  COUNTRY: { column: "country", expr: "nullif(country, '')", numeric: false },
  PREFIX: { column: "prefix", expr: "nullif(prefix, '')", numeric: false },
  STAGE: { column: "stage", expr: "nullif(stage, '')", numeric: false },
  ERROR_CODE: { column: "errorCode", expr: "nullif(error_code, 0)", numeric: true },
  CHANNEL: { column: "channel", expr: "nullif(channel, '')", numeric: false },
  HOUR: { column: "hour", expr: `t - t % ${HOUR_MS}`, numeric: true },
  DAY: { column: "day", expr: `t - t % ${DAY_MS}`, numeric: true },
};

/** The outer select over the segments: the grouped dimensions (named as AggregateRow keys) and summed counters. */
export function aggregateSelect(groupBy: StatsDimension[]): { select: string; groupBy: string } {
  const dims = groupBy.map((d) => DIMENSION_SQL[d]);
  const select = [...dims.map((d) => `${d.expr} as "${d.column}"`), ...SEGMENT_COUNTERS.map((c) => `coalesce(sum(${c}), 0) as ${c}`)].join(", ");
  return { select, groupBy: dims.length ? ` group by ${dims.map((d) => d.expr).join(", ")}` : "" };
}

/** One result row of {@link aggregateSelect} as an AggregateRow (numbers converted, ungrouped dimensions null). */
export function toAggregateRow(r: Record<string, number | string | null>, groupBy: StatsDimension[]): AggregateRow {
  const row: AggregateRow = { country: null, prefix: null, stage: null, errorCode: null, channel: null, hour: null, day: null, decisions: 0, allowed: 0, blocked: 0, sends: 0, checks: 0, prevented: 0, converted: 0, approvals: 0, shadowed: 0 };
  for (const d of groupBy.map((g) => DIMENSION_SQL[g])) {
    const v = r[d.column] ?? null;
    (row as unknown as Record<string, unknown>)[d.column] = v === null ? null : d.numeric ? Number(v) : v;
  }
  for (const c of SEGMENT_COUNTERS) row[c] = Number(r[c] ?? 0);
  row.blocked = row.decisions - row.allowed;
  return row;
}
