import { desc, sql, type SQL } from "drizzle-orm";
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
import type { PgDb } from "./connect.js";
import { withCleanErrors } from "./errors.js";
import { riskDecisions } from "./schema.js";

/**
 * The counters of one raw decision, exactly as the roll-up triggers (drizzle/pg/*_risk_rollup_triggers.sql)
 * count it (booleans cast to integers, which SQLite does implicitly), so a LOG segment adds up as a roll-up does.
 */
const LOG_COUNTERS = sql.raw(`1 as decisions,
  (d.outcome = 'ALLOWED')::integer as allowed,
  (d.kind = 'START' and d.outcome = 'ALLOWED')::integer as sends,
  (d.kind = 'CHECK')::integer as checks,
  (d.kind = 'START' and d.outcome = 'BLOCKED' and coalesce(d.error_code, 0) <> 60200)::integer as prevented,
  d.converted::integer as converted,
  (d.converted and risk_decision_first_send(d))::integer as approvals,
  (d.outcome = 'ALLOWED' and d.shadow is not null)::integer as shadowed`);

/**
 * Fraud statistics and the attempts log over PostgreSQL: the SQLite store's plan (store/stats.ts:
 * roll-ups for whole buckets, the log only for partial ones at the ends) and the same SQL, with
 * PostgreSQL's spelling where it differs. bigint results (sums, times) arrive as strings and are
 * converted here.
 */
export class PgStatsStore implements StatsStore {
  constructor(private readonly db: PgDb) {}

  async aggregate(q: AggregateQuery): Promise<AggregateRow[]> {
    const { rows } = await this.db.execute<Record<string, number | string | null>>(this.aggregateSql(q));
    return rows.map((r) => toAggregateRow(r, q.groupBy));
  }

  async listDecisions(q: { filter: DecisionFilter; after: DecisionCursor | null; limit: number }): Promise<RiskDecisionRow[]> {
    return this.db
      .select()
      .from(riskDecisions)
      .where(this.logWhere(q.filter, q.after))
      .orderBy(desc(riskDecisions.createdAt), desc(riskDecisions.id))
      .limit(q.limit);
  }

  /** EXPLAIN of an aggregate (which indexes each segment reads), for benchmarks and tests. */
  async explainAggregate(q: AggregateQuery): Promise<string[]> {
    const { rows } = await this.db.execute<{ "QUERY PLAN": string }>(sql`explain ${this.aggregateSql(q)}`);
    return rows.map((r) => r["QUERY PLAN"]);
  }

  private logWhere(f: DecisionFilter, after: DecisionCursor | null): SQL | undefined {
    const d = riskDecisions;
    // Keyset: a row value comparison, one index range read in order.
    return decisionLogWhere(d, f, after ? sql`(${d.createdAt}, ${d.id}) < (${after.createdAt}::bigint, ${after.id}::text)` : undefined);
  }

  private aggregateSql(q: AggregateQuery): SQL {
    const segments = planSegments(q);
    const union = segments.length ? sql.join(segments.map((s) => this.segmentSql(s, q)), sql` union all `) : sql`select ${emptySegment()} where false`;
    const { select, groupBy } = aggregateSelect(q.groupBy);
    return sql`select ${sql.raw(select)} from (${union}) as segments${sql.raw(groupBy)}`;
  }

  /** One segment as rows of (country, prefix, channel, stage, error_code, t, counters…). */
  private segmentSql(s: Segment, q: AggregateQuery): SQL {
    const counters = sql.raw(COUNTERS.join(", "));
    const service = (col: string) => (q.serviceId ? sql` and ${sql.raw(col)} = ${q.serviceId}` : sql``);
    const country = (col: string) => (q.country ? sql` and ${sql.raw(col)} = ${q.country}` : sql``);
    const from = sql`${s.from}::bigint`;
    const until = sql`${s.until}::bigint`;
    switch (s.source) {
      case "HOUR":
      case "DAY":
        return sql`select country, '' as prefix, channel, stage, error_code, bucket as t, ${counters}
          from risk_rollups where span = ${s.source}${service("service_id")} and bucket >= ${from} and bucket < ${until}${country("country")}${
            q.blockedOnly ? sql` and stage <> ''` : sql``
          }`;
      case "PREFIX_DAY":
        return sql`select country, prefix, channel, stage, error_code, day as t, ${counters}
          from risk_prefix_rollups where day >= ${from} and day < ${until}${service("service_id")}${country("country")}${
            q.blockedOnly ? sql` and stage <> ''` : sql``
          }`;
      case "LOG":
        return sql`select coalesce(d.country, '') as country, coalesce(d.prefix, '') as prefix, coalesce(d.channel, '') as channel,
            coalesce(d.stage, '') as stage, coalesce(d.error_code, 0) as error_code, d.created_at as t, ${LOG_COUNTERS}
          from risk_decisions d where d.created_at >= ${from} and d.created_at < ${until}${service("d.service_id")}${country("d.country")}${
            q.blockedOnly ? sql` and d.outcome = 'BLOCKED'` : sql``
          }`;
    }
  }
}

withCleanErrors(PgStatsStore);

/** A row of the segment shape, for an empty range (keeps the outer query valid). */
function emptySegment(): SQL {
  return sql.raw(`'' as country, '' as prefix, '' as channel, '' as stage, 0 as error_code, 0::bigint as t, ${COUNTERS.map((c) => `0 as ${c}`).join(", ")}`);
}
