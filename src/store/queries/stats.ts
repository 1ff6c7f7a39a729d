import { COUNTERS, logCounters } from "../rollups.js";
import { selectList } from "../schema/define.js";
import { riskDecisions } from "../schema/tables.js";
import type { Dialect } from "../sql/dialect.js";
import { adhoc, query, type Db } from "../sql/query.js";
import {
  aggregateSelect,
  planSegments,
  toAggregateRow,
  type AggregateQuery,
  type AggregateRow,
  type DecisionCursor,
  type DecisionFilter,
  type Segment,
  type StatsStore,
} from "../stats.js";
import type { RiskDecisionRow } from "../types.js";
import { toDecision } from "./store.js";

const D = selectList(riskDecisions);

/** Both are index lookups (the attempt id's partial index, the primary key). */
const byAttemptOrId = query<{ sid: string }, RiskDecisionRow>(`select ${D} from risk_decisions where attempt_id = :sid or id = :sid limit 1`, { map: toDecision });

/**
 * The services that have roll-ups, found by skipping from one service id to the next along the
 * primary key (neither database has a loose index scan; this recursive form is the standard
 * stand-in). A few index seeks, and it includes services deleted since (their decisions stay in the
 * log). A query over every service then reads one primary-key range per service, not the whole table.
 */
export const EVERY_SERVICE = `with recursive
  rollup_services(id) as (
    select min(service_id) from risk_rollups where span = 'DAY'
    union all
    select (select min(service_id) from risk_rollups where span = 'DAY' and service_id > r.id) from rollup_services r where r.id is not null),
  prefix_services(id) as (
    select min(service_id) from risk_prefix_rollups
    union all
    select (select min(service_id) from risk_prefix_rollups where service_id > p.id) from prefix_services p where p.id is not null)
`;

/** SQL of one call with its parameters, named as the SQL names them. */
interface Built {
  sql: string;
  params: Record<string, unknown>;
}

/**
 * Fraud statistics and the attempts log. Aggregates add up the roll-up tables (store/stats.ts has the
 * plan); only the partial buckets at the ends of a range read the log, counted by the same rules as
 * the roll-ups (store/rollups.ts). Each call's SQL depends on its filters, so it is not kept prepared.
 */
export class SqlStatsStore implements StatsStore {
  constructor(private readonly db: Db) {}

  async aggregate(q: AggregateQuery): Promise<AggregateRow[]> {
    const b = this.aggregateSql(q);
    const rows = await this.db.all(adhoc<Record<string, unknown>, Record<string, number | string | null>>(b.sql), b.params);
    return rows.map((r) => toAggregateRow(r, q.groupBy));
  }

  async listDecisions(q: { filter: DecisionFilter; after: DecisionCursor | null; limit: number }): Promise<RiskDecisionRow[]> {
    const b = this.listSql(q.filter, q.after, q.limit);
    return this.db.all(adhoc<Record<string, unknown>, RiskDecisionRow>(b.sql, toDecision), b.params);
  }

  getDecision(sid: string): Promise<RiskDecisionRow | null> {
    return this.db.get(byAttemptOrId, { sid }).then((r) => r ?? null);
  }

  /** The query plan of an aggregate: which index each segment reads (benchmarks and tests). */
  explainAggregate(q: AggregateQuery): Promise<string[]> {
    return this.explain(this.aggregateSql(q));
  }

  /** The query plan of one page of the attempts log. */
  explainList(filter: DecisionFilter, after: DecisionCursor | null, limit = 20): Promise<string[]> {
    return this.explain(this.listSql(filter, after, limit));
  }

  private async explain(b: Built): Promise<string[]> {
    const sqlite = this.db.dialect.name === "sqlite";
    const rows = await this.db.all(adhoc<Record<string, unknown>, Record<string, string>>(`${sqlite ? "explain query plan" : "explain"} ${b.sql}`), b.params);
    return rows.map((r) => (sqlite ? r.detail! : r["QUERY PLAN"]!));
  }

  private listSql(f: DecisionFilter, after: DecisionCursor | null, limit: number): Built {
    const d = this.db.dialect;
    const params: Record<string, unknown> = { limit };
    const where: string[] = [];
    const eq = (column: string, key: string, value: unknown) => {
      if (value === null || value === undefined || value === "") return;
      where.push(`${column} = :${key}`);
      params[key] = value;
    };
    eq("service_id", "serviceId", f.serviceId);
    eq("to_number", "to", f.to);
    eq("country", "country", f.country);
    eq("kind", "kind", f.kind);
    eq("outcome", "outcome", f.outcome);
    eq("stage", "stage", f.stage);
    eq("error_code", "errorCode", f.errorCode);
    eq("verification_id", "verificationId", f.verificationId);
    eq("channel", "channel", f.channel);
    if (f.converted != null) where.push(f.converted ? "converted = true" : "converted = false");
    if (f.from != null) (where.push("created_at >= :from"), (params.from = f.from));
    if (f.until != null) (where.push("created_at < :until"), (params.until = f.until));
    if (after) {
      // Keyset: a row value comparison, which both databases turn into one index range read in order.
      where.push(`(created_at, id) < (${d.int(":afterAt")}, ${d.text(":afterId")})`);
      Object.assign(params, { afterAt: after.createdAt, afterId: after.id });
    }
    const sql = `select ${D} from risk_decisions${where.length ? ` where ${where.join(" and ")}` : ""} order by created_at desc, id desc limit :limit`;
    return { sql, params };
  }

  private aggregateSql(q: AggregateQuery): Built {
    const d = this.db.dialect;
    const params: Record<string, unknown> = {};
    if (q.serviceId) params.serviceId = q.serviceId;
    if (q.country) params.country = q.country;
    const segments = planSegments(q);
    const union = segments.length
      ? segments.map((s, i) => this.segmentSql(s, i, q, d, params)).join(" union all ")
      : `select '' as country, '' as prefix, '' as channel, '' as stage, 0 as error_code, 0 as t, ${COUNTERS.map((c) => `0 as ${c}`).join(", ")} where false`;
    const { select, groupBy } = aggregateSelect(q.groupBy);
    return { sql: `${q.serviceId ? "" : EVERY_SERVICE}select ${select} from (${union}) as segments${groupBy}`, params };
  }

  /** One segment as rows of (country, prefix, channel, stage, error_code, t, counters…). */
  private segmentSql(s: Segment, i: number, q: AggregateQuery, d: Dialect, params: Record<string, unknown>): string {
    params[`from${i}`] = s.from;
    params[`until${i}`] = s.until;
    const range = (col: string) => `${col} >= :from${i} and ${col} < :until${i}`;
    const service = (col: string, every: "rollup_services" | "prefix_services" | null) =>
      q.serviceId ? ` and ${col} = :serviceId` : every ? ` and ${col} in (select id from ${every})` : "";
    const country = (col: string) => (q.country ? ` and ${col} = :country` : "");
    const counters = COUNTERS.join(", ");
    switch (s.source) {
      case "HOUR":
      case "DAY":
        return `select country, '' as prefix, channel, stage, error_code, bucket as t, ${counters}
          from risk_rollups where span = '${s.source}'${service("service_id", "rollup_services")} and ${range("bucket")}${country("country")}${q.blockedOnly ? " and stage <> ''" : ""}`;
      case "PREFIX_DAY":
        return `select country, prefix, channel, stage, error_code, day as t, ${counters}
          from risk_prefix_rollups where ${range("day")}${service("service_id", "prefix_services")}${country("country")}${q.blockedOnly ? " and stage <> ''" : ""}`;
      case "LOG":
        return `select coalesce(d.country, '') as country, coalesce(d.prefix, '') as prefix, coalesce(d.channel, '') as channel,
            coalesce(d.stage, '') as stage, coalesce(d.error_code, 0) as error_code, d.created_at as t, ${logCounters("d", d)}
          from risk_decisions d where ${range("d.created_at")}${service("d.service_id", null)}${country("d.country")}${q.blockedOnly ? " and d.outcome = 'BLOCKED'" : ""}`;
    }
  }
}
