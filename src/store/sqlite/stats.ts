import type Database from "better-sqlite3";
import { and, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import {
  planSegments,
  type AggregateQuery,
  type AggregateRow,
  type DecisionCursor,
  type DecisionFilter,
  type Segment,
  type StatsDimension,
  type StatsStore,
} from "../stats.js";
import type { RiskDecisionRow } from "../types.js";
import * as schema from "./schema.js";

const { riskDecisions } = schema;

/** Counter columns every segment yields, in this order. */
const COUNTERS = ["decisions", "allowed", "sends", "checks", "prevented", "converted", "approvals", "shadowed"] as const;

/**
 * The counters of one raw decision, exactly as the roll-up triggers (drizzle/sqlite/*_risk_rollup_triggers.sql)
 * count it, so a LOG segment adds up the same way as a roll-up one.
 */
const LOG_COUNTERS = sql.raw(`1 as decisions,
  d.outcome = 'ALLOWED' as allowed,
  d.kind = 'START' and d.outcome = 'ALLOWED' as sends,
  d.kind = 'CHECK' as checks,
  d.kind = 'START' and d.outcome = 'BLOCKED' and coalesce(d.error_code, 0) <> 60200 as prevented,
  d.converted as converted,
  d.converted and d.kind = 'START' and d.outcome = 'ALLOWED' and (d.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = d.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < d.created_at or (e.created_at = d.created_at and e.id < d.id)))) as approvals,
  d.outcome = 'ALLOWED' and d.shadow is not null as shadowed`);

/** How each dimension is selected from the union of segments (t = the row's time or bucket start). */
const DIMENSIONS: Record<StatsDimension, { column: keyof AggregateRow; expr: string }> = {
  COUNTRY: { column: "country", expr: "nullif(country, '')" },
  PREFIX: { column: "prefix", expr: "nullif(prefix, '')" },
  STAGE: { column: "stage", expr: "nullif(stage, '')" },
  ERROR_CODE: { column: "errorCode", expr: "nullif(error_code, 0)" },
  CHANNEL: { column: "channel", expr: "nullif(channel, '')" },
  HOUR: { column: "hour", expr: "t - t % 3600000" },
  DAY: { column: "day", expr: "t - t % 86400000" },
};

/**
 * Fraud statistics and the attempts log over SQLite. Aggregates add up the roll-up tables (see
 * store/stats.ts for the plan); only the partial buckets at the ends of a range read the log.
 */
export class SqliteStatsStore implements StatsStore {
  private readonly db: BetterSQLite3Database<typeof schema>;
  private readonly sqlite: Database.Database;

  /** Reads through the store's own connection (the same file, the same statement cache). */
  constructor(store: { db: BetterSQLite3Database<typeof schema>; sqlite: Database.Database }) {
    this.db = store.db;
    this.sqlite = store.sqlite;
  }

  async aggregate(q: AggregateQuery): Promise<AggregateRow[]> {
    const rows = this.db.all<Record<string, number | string | null>>(this.aggregateSql(q));
    const dims = new Set(q.groupBy.map((d) => DIMENSIONS[d].column));
    return rows.map((r) => {
      const row: AggregateRow = { country: null, prefix: null, stage: null, errorCode: null, channel: null, hour: null, day: null, blocked: 0, ...zeroCounters() };
      for (const c of dims) (row as unknown as Record<string, unknown>)[c] = r[c] ?? null;
      for (const c of COUNTERS) row[c] = Number(r[c] ?? 0);
      row.blocked = row.decisions - row.allowed;
      return row;
    });
  }

  async listDecisions(q: { filter: DecisionFilter; after: DecisionCursor | null; limit: number }): Promise<RiskDecisionRow[]> {
    return this.listQuery(q.filter, q.after, q.limit).all();
  }

  /** EXPLAIN QUERY PLAN of an aggregate: which index each segment reads (benchmarks and tests). */
  explainAggregate(q: AggregateQuery): string[] {
    return this.db.all<{ detail: string }>(sql`explain query plan ${this.aggregateSql(q)}`).map((r) => r.detail);
  }

  /** EXPLAIN QUERY PLAN of one page of the attempts log. */
  explainList(filter: DecisionFilter, after: DecisionCursor | null, limit = 20): string[] {
    const q = this.listQuery(filter, after, limit).toSQL();
    return (this.sqlite.prepare(`explain query plan ${q.sql}`).all(...q.params) as { detail: string }[]).map((r) => r.detail);
  }

  private listQuery(filter: DecisionFilter, after: DecisionCursor | null, limit: number) {
    return this.db
      .select()
      .from(riskDecisions)
      .where(this.logWhere(filter, after))
      .orderBy(desc(riskDecisions.createdAt), desc(riskDecisions.id))
      .limit(limit);
  }

  private logWhere(f: DecisionFilter, after: DecisionCursor | null): SQL | undefined {
    const d = riskDecisions;
    return and(
      f.serviceId ? eq(d.serviceId, f.serviceId) : undefined,
      f.to ? eq(d.to, f.to) : undefined,
      f.country ? eq(d.country, f.country) : undefined,
      f.kind ? eq(d.kind, f.kind) : undefined,
      f.outcome ? eq(d.outcome, f.outcome) : undefined,
      f.stage ? eq(d.stage, f.stage) : undefined,
      f.errorCode != null ? eq(d.errorCode, f.errorCode) : undefined,
      f.from != null ? gte(d.createdAt, f.from) : undefined,
      f.until != null ? lt(d.createdAt, f.until) : undefined,
      // Keyset: a row value comparison, which SQLite (and PostgreSQL) turn into one index range.
      after ? sql`(${d.createdAt}, ${d.id}) < (${after.createdAt}, ${after.id})` : undefined,
    );
  }

  private aggregateSql(q: AggregateQuery): SQL {
    const segments = planSegments(q);
    const union = segments.length ? sql.join(segments.map((s) => this.segmentSql(s, q)), sql` union all `) : sql`select ${emptySegment()} where 0`;
    const dims = q.groupBy.map((d) => DIMENSIONS[d]);
    const select = [
      ...dims.map((d) => `${d.expr} as ${sqlName(d.column)}`),
      ...COUNTERS.map((c) => `coalesce(sum(${c}), 0) as ${c}`),
    ].join(", ");
    const groupBy = dims.length ? sql.raw(` group by ${dims.map((d) => d.expr).join(", ")}`) : sql``;
    return sql`${q.serviceId ? sql`` : EVERY_SERVICE}select ${sql.raw(select)} from (${union})${groupBy}`;
  }

  /** One segment as rows of (country, prefix, channel, stage, error_code, t, counters…). */
  private segmentSql(s: Segment, q: AggregateQuery): SQL {
    const counters = sql.raw(COUNTERS.join(", "));
    // Every service: one primary-key range per service (the ids come from EVERY_SERVICE), not a walk
    // of the whole table by bucket; the log's own indexes serve either case.
    const service = (col: string, every: "rollup_services" | "prefix_services" | null) =>
      q.serviceId ? sql` and ${sql.raw(col)} = ${q.serviceId}` : every ? sql.raw(` and ${col} in (select id from ${every})`) : sql``;
    const country = (col: string) => (q.country ? sql` and ${sql.raw(col)} = ${q.country}` : sql``);
    switch (s.source) {
      case "HOUR":
      case "DAY":
        return sql`select country, '' as prefix, channel, stage, error_code, bucket as t, ${counters}
          from risk_rollups where span = ${s.source}${service("service_id", "rollup_services")} and bucket >= ${s.from} and bucket < ${s.until}${country("country")}${
            q.blockedOnly ? sql` and stage <> ''` : sql``
          }`;
      case "PREFIX_DAY":
        return sql`select country, prefix, channel, stage, error_code, day as t, ${counters}
          from risk_prefix_rollups where day >= ${s.from} and day < ${s.until}${service("service_id", "prefix_services")}${country("country")}${
            q.blockedOnly ? sql` and stage <> ''` : sql``
          }`;
      case "LOG":
        return sql`select coalesce(d.country, '') as country, coalesce(d.prefix, '') as prefix, coalesce(d.channel, '') as channel,
            coalesce(d.stage, '') as stage, coalesce(d.error_code, 0) as error_code, d.created_at as t, ${LOG_COUNTERS}
          from risk_decisions d where d.created_at >= ${s.from} and d.created_at < ${s.until}${service("d.service_id", null)}${country("d.country")}${
            q.blockedOnly ? sql` and d.outcome = 'BLOCKED'` : sql``
          }`;
    }
  }
}

/**
 * The services that have roll-ups, found by skipping from one service id to the next along the
 * primary key (SQLite has no loose index scan; this recursive form is the documented stand-in). A few
 * index seeks, and it includes services deleted since (their decisions stay in the log).
 */
const EVERY_SERVICE = sql.raw(`with recursive
  rollup_services(id) as (
    select min(service_id) from risk_rollups where span = 'DAY'
    union all
    select (select min(service_id) from risk_rollups where span = 'DAY' and service_id > r.id) from rollup_services r where r.id is not null),
  prefix_services(id) as (
    select min(service_id) from risk_prefix_rollups
    union all
    select (select min(service_id) from risk_prefix_rollups where service_id > p.id) from prefix_services p where p.id is not null)
`);

function zeroCounters() {
  return { decisions: 0, allowed: 0, sends: 0, checks: 0, prevented: 0, converted: 0, approvals: 0, shadowed: 0 };
}

/** A row of the segment shape, for an empty range (keeps the outer query valid). */
function emptySegment(): SQL {
  return sql.raw(`'' as country, '' as prefix, '' as channel, '' as stage, 0 as error_code, 0 as t, ${COUNTERS.map((c) => `0 as ${c}`).join(", ")}`);
}

/** Result column names are the AggregateRow keys (quoted: errorCode is mixed case). */
function sqlName(column: string): string {
  return `"${column}"`;
}
