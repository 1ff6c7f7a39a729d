import type Database from "better-sqlite3";
import { desc, sql, type SQL } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import {
  aggregateSelect,
  decisionLogWhere,
  planSegments,
  SEGMENT_COUNTERS as COUNTERS,
  toAggregateRow,
  type AggregateQuery,
  type AggregateRow,
  type DecisionCursor,
  type DecisionFilter,
  type Segment,
  type StatsStore,
} from "../stats.js";
import type { RiskDecisionRow } from "../types.js";
import * as schema from "./schema.js";

const { riskDecisions } = schema;

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
    return rows.map((r) => toAggregateRow(r, q.groupBy));
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
    // Keyset: a row value comparison, which SQLite (and PostgreSQL) turn into one index range.
    return decisionLogWhere(d, f, after ? sql`(${d.createdAt}, ${d.id}) < (${after.createdAt}, ${after.id})` : undefined);
  }

  private aggregateSql(q: AggregateQuery): SQL {
    const segments = planSegments(q);
    const union = segments.length ? sql.join(segments.map((s) => this.segmentSql(s, q)), sql` union all `) : sql`select ${emptySegment()} where 0`;
    const { select, groupBy } = aggregateSelect(q.groupBy);
    return sql`${q.serviceId ? sql`` : EVERY_SERVICE}select ${sql.raw(select)} from (${union})${sql.raw(groupBy)}`;
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

/** A row of the segment shape, for an empty range (keeps the outer query valid). */
function emptySegment(): SQL {
  return sql.raw(`'' as country, '' as prefix, '' as channel, '' as stage, 0 as error_code, 0 as t, ${COUNTERS.map((c) => `0 as ${c}`).join(", ")}`);
}
