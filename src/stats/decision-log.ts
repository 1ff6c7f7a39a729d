import { AppError, invalidParameter } from "../errors.js";
import { parsePhone } from "../phone.js";
import type { DecisionCursor, DecisionFilter, StatsStore } from "../store/stats.js";
import type { RiskDecisionRow } from "../store/types.js";
import { normalizeCountry } from "./fraud-stats.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** One page of the log, newest first, with Relay's cursors. */
export interface DecisionPage {
  edges: { cursor: string; node: RiskDecisionRow }[];
  hasNextPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/**
 * The attempts log (`verificationAttempts`): every decision of the risk pipeline, newest first, paged
 * with opaque cursors over (createdAt, id). Keyset paging keeps page 1,000 as cheap as page 1 and never
 * skips or repeats a row when new decisions arrive between pages (they sort before the first page).
 */
export class DecisionLog {
  constructor(private readonly stats: StatsStore) {}

  async page(filter: DecisionFilter, first: number | null | undefined, after: string | null | undefined): Promise<DecisionPage> {
    const limit = first ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw invalidParameter("first", `must be from 1 to ${MAX_PAGE_SIZE}`);
    const normalized = normalizeFilter(filter);
    // One row more than asked tells whether there is a next page without counting.
    const rows = await this.stats.listDecisions({ filter: normalized, after: after ? decodeCursor(after) : null, limit: limit + 1 });
    const edges = rows.slice(0, limit).map((node) => ({ cursor: encodeCursor(node), node }));
    return { edges, hasNextPage: rows.length > limit, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null };
  }

  /**
   * One send (an allowed start: Twilio's verification attempt) by its send attempt's SID (VL…), or by
   * its decision id for starts logged before attempts were recorded. Any other decision is 20404.
   */
  async attempt(sid: string): Promise<RiskDecisionRow> {
    const row = /^V[LD][0-9a-f]{32}$/.test(sid) ? await this.stats.getDecision(sid) : null;
    if (!row || row.kind !== "START" || row.outcome !== "ALLOWED" || (row.attemptId !== null && row.attemptId !== sid)) {
      throw new AppError("NOT_FOUND", "Verification attempt not found");
    }
    return row;
  }
}

function normalizeFilter(f: DecisionFilter): DecisionFilter {
  let to: string | null = null;
  if (f.to != null) {
    const parsed = parsePhone(f.to);
    if (!parsed.ok) throw invalidParameter("to", parsed.reason);
    to = parsed.phone.e164;
  }
  if (f.stage != null && !/^[a-z0-9-]{1,64}$/.test(f.stage)) throw invalidParameter("stage", "must be a stage name such as prefix-guard");
  if (f.from != null && f.until != null && f.from >= f.until) throw invalidParameter("from", "must be before until");
  return { ...f, to, country: normalizeCountry(f.country) };
}

/**
 * Cursors are opaque to callers (base64url of a versioned "createdAt:id"), so the paging key can
 * change without breaking clients that treat them as tokens, as the Relay spec asks.
 */
export function encodeCursor(row: { createdAt: number; id: string }): string {
  return Buffer.from(`v1:${row.createdAt}:${row.id}`).toString("base64url");
}

export function decodeCursor(cursor: string): DecisionCursor {
  const m = /^v1:(\d{1,16}):([A-Za-z0-9]{1,64})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m || cursor.length > 200) throw invalidParameter("after", "not a cursor from this API");
  return { createdAt: Number(m[1]), id: m[2]! };
}
