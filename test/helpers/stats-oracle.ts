/**
 * Fraud statistics recomputed the slow, obvious way from raw risk_decisions rows, as the expected
 * answer for tests of the roll-ups: same definitions (store/stats.ts), none of the machinery.
 */
import type { AggregateRow } from "../../src/store/stats.js";

/** A risk_decisions row as SQLite returns it. */
export interface DecisionDb {
  id: string;
  service_id: string;
  verification_id: string | null;
  kind: "START" | "CHECK";
  outcome: "ALLOWED" | "BLOCKED";
  stage: string | null;
  code: string | null;
  error_code: number | null;
  reason: string | null;
  shadow: string | null;
  to_number: string | null;
  country: string | null;
  prefix: string | null;
  line_type: string | null;
  ip: string | null;
  channel: string | null;
  tags: string | null;
  converted: number;
  created_at: number;
}

/** USD per send by "COUNTRY:CHANNEL". */
export type Prices = Record<string, number>;

const H = 3_600_000;
const D = 86_400_000;

/** The first allowed start of each verification (where an approval is counted). */
function firstStarts(rows: DecisionDb[]): Set<string> {
  const first = new Map<string, DecisionDb>();
  for (const r of rows) {
    if (r.kind !== "START" || r.outcome !== "ALLOWED" || !r.verification_id) continue;
    const f = first.get(r.verification_id);
    if (!f || r.created_at < f.created_at || (r.created_at === f.created_at && r.id < f.id)) first.set(r.verification_id, r);
  }
  return new Set([...first.values()].map((r) => r.id));
}

/** Counters of one group, in the store's shape (only the type is shared), plus the prevented sends' price. */
export interface OracleGroup extends AggregateRow {
  savedMicros: number;
}

export interface OracleQuery {
  serviceId: string | null;
  from: number;
  until: number;
  groupBy: string[];
  country?: string | null;
  blockedOnly?: boolean;
}

/** Groups and counts raw rows exactly as the store's aggregate must. `price` is USD per send (optional). */
export function expectedAggregate(rows: DecisionDb[], q: OracleQuery, price?: (country: string | null, channel: string | null) => number): OracleGroup[] {
  const firsts = firstStarts(rows);
  const groups = new Map<string, OracleGroup>();
  for (const r of rows) {
    if (q.serviceId && r.service_id !== q.serviceId) continue;
    if (r.created_at < q.from || r.created_at >= q.until) continue;
    if (q.country && r.country !== q.country) continue;
    if (q.blockedOnly && r.outcome !== "BLOCKED") continue;
    const dims = {
      country: q.groupBy.includes("COUNTRY") ? r.country : null,
      prefix: q.groupBy.includes("PREFIX") ? r.prefix : null,
      stage: q.groupBy.includes("STAGE") ? r.stage : null,
      errorCode: q.groupBy.includes("ERROR_CODE") ? r.error_code : null,
      channel: q.groupBy.includes("CHANNEL") ? r.channel : null,
      hour: q.groupBy.includes("HOUR") ? r.created_at - (r.created_at % H) : null,
      day: q.groupBy.includes("DAY") ? r.created_at - (r.created_at % D) : null,
    };
    const key = JSON.stringify(dims);
    let g = groups.get(key);
    if (!g) {
      g = { ...dims, decisions: 0, allowed: 0, blocked: 0, sends: 0, checks: 0, prevented: 0, converted: 0, approvals: 0, shadowed: 0, savedMicros: 0 };
      groups.set(key, g);
    }
    const allowed = r.outcome === "ALLOWED";
    const prevented = r.kind === "START" && !allowed && r.error_code !== 60200;
    g.decisions++;
    if (allowed) g.allowed++;
    else g.blocked++;
    if (r.kind === "START" && allowed) g.sends++;
    if (r.kind === "CHECK") g.checks++;
    if (r.converted === 1) g.converted++;
    if (r.converted === 1 && firsts.has(r.id)) g.approvals++;
    if (prevented) g.prevented++;
    if (allowed && r.shadow !== null) g.shadowed++;
    if (prevented && price) g.savedMicros += Math.round(price(r.country, r.channel) * 1e6);
  }
  return [...groups.values()];
}

/** What `fraudStats(...).rows` must be (in any order), in the API's field names, with the test's prices. */
export function expectedGroups(rows: DecisionDb[], q: OracleQuery, prices: Prices): Record<string, unknown>[] {
  const price = (country: string | null, channel: string | null) => {
    const usd = prices[`${country}:${channel}`];
    if (usd === undefined) throw new Error(`the test sets no price for ${country}:${channel}`);
    return usd;
  };
  return expectedAggregate(rows, q, price).map((g) => ({
    country: g.country,
    prefix: g.prefix,
    stage: g.stage,
    errorCode: g.errorCode,
    channel: g.channel,
    hour: g.hour === null ? null : new Date(g.hour).toISOString(),
    day: g.day === null ? null : new Date(g.day).toISOString(),
    attempts: g.decisions,
    allowed: g.allowed,
    blocked: g.blocked,
    sends: g.sends,
    checks: g.checks,
    converted: g.converted,
    approvals: g.approvals,
    preventedSends: g.prevented,
    shadowBlocked: g.shadowed,
    savedUsd: g.savedMicros / 1e6,
    conversionRatePercentage: g.sends ? Math.round((g.converted / g.sends) * 10_000) / 100 : null,
  }));
}
