import { randomBytes } from "node:crypto";
import { insertDecision } from "../../src/store/queries/store.js";
import { run, type Db } from "../../src/store/sql/query.js";
import type { RiskDecisionRow } from "../../src/store/types.js";

/**
 * Seeds the decision log (risk_decisions) with rows shaped like a real user base under a mild SMS
 * pumping attack, for the admin-query benchmark (`npm run bench`, section "admin") and for anyone
 * who wants a large history in a development database.
 *
 * Shape: a few services of uneven size; a country mix led by the US, GB, IN and BR; in each country
 * a few dozen national prefixes with a long tail; 60 % starts and 40 % checks; about 10 % of the
 * requests blocked, by stage (geo 60605, prefix guard 60410, limits 20429, phone 60200, spend 60606,
 * the send cap 60203); pumping traffic to expensive Central Asian ranges that almost never converts;
 * 70 % of legitimate sends converted. Deterministic for a seed.
 */
export interface SeedOptions {
  /** Services the rows belong to (default: five made-up ids, weighted 50/20/15/10/5 %). */
  serviceIds?: string[];
  /** Rows end at this time (default: now) and spread over `days` before it. */
  until?: number;
  /** Days of history (default 30). */
  days?: number;
  /** PRNG seed (default 42). */
  seed?: number;
}

export interface SeedSummary {
  rows: number;
  from: number;
  until: number;
  serviceIds: string[];
  /** Milliseconds the inserts took (including the roll-up triggers). */
  ms: number;
}

/** Country, calling code, share of legitimate traffic. */
const COUNTRIES: [string, string, number][] = [
  ["US", "1", 30], ["GB", "44", 10], ["IN", "91", 10], ["BR", "55", 8], ["DE", "49", 5], ["FR", "33", 5],
  ["MX", "52", 4], ["ID", "62", 4], ["NG", "234", 3], ["PH", "63", 3], ["ES", "34", 3], ["IT", "39", 3],
  ["CA", "1", 3], ["AU", "61", 2], ["NL", "31", 2], ["PK", "92", 2], ["TR", "90", 1], ["EG", "20", 1], ["KE", "254", 1],
];
/** Where pumping traffic goes: expensive ranges (country, calling code, the rented prefixes' first digits). */
const PUMPING: [string, string, string[]][] = [
  ["UZ", "998", ["909", "933", "977"]],
  ["TJ", "992", ["918", "927"]],
  ["KG", "996", ["555", "700"]],
  ["AZ", "994", ["505", "554"]],
];

/** mulberry32: small, fast, deterministic (also the roll-up tests' generator). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weightedPicker<T>(items: T[], weight: (t: T) => number, rand: () => number): () => T {
  const cum: number[] = [];
  let total = 0;
  for (const it of items) cum.push((total += weight(it)));
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo]!;
  };
}

/** Row generator: one call, one decision (time-ordered within each verification). */
function generator(opts: Required<Omit<SeedOptions, "serviceIds">> & { serviceIds: string[] }) {
  const rand = prng(opts.seed);
  const from = opts.until - opts.days * 86_400_000;
  const serviceWeights = [50, 20, 15, 10, 5];
  const pickServiceWeighted = weightedPicker(
    opts.serviceIds.map((id, i) => ({ id, w: serviceWeights[i] ?? 5 })),
    (s) => s.w,
    rand,
  );
  const pickCountry = weightedPicker(COUNTRIES, (c) => c[2], rand);
  // Each country's national prefixes: 40 three-digit ranges with a Zipf-like long tail.
  const ranges = new Map<string, string[]>();
  for (const [country] of COUNTRIES) {
    ranges.set(country, Array.from({ length: 40 }, () => String(100 + Math.floor(rand() * 900))));
  }
  const zipf = weightedPicker(Array.from({ length: 40 }, (_, i) => i), (i) => 1 / (i + 1), rand);
  const blockStages: [string, string, number, number][] = [
    // stage, code, error code, share of blocks of legitimate-looking traffic
    ["limits", "RATE_LIMITED", 20429, 40],
    ["phone", "INVALID_PARAMETER", 60200, 30],
    ["prefix-guard", "PREFIX_BLOCKED", 60410, 10],
    ["spend", "SPEND_LIMIT_REACHED", 60606, 5],
    ["verification", "MAX_SEND_ATTEMPTS_REACHED", 60203, 15],
  ];
  const pickBlock = weightedPicker(blockStages, (b) => b[3], rand);
  const digits = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(rand() * 10);
    return s;
  };
  let seq = 0;
  const idBase = randomBytes(8).toString("hex");
  const sid = (p: string) => p + idBase + (seq++).toString(16).padStart(24, "0");

  return (i: number, n: number): RiskDecisionRow => {
    // Time grows with i (so rows arrive in order), with jitter inside each slot.
    const createdAt = Math.floor(from + ((i + rand()) / n) * (opts.until - from - 1));
    const serviceId = pickServiceWeighted().id;
    const pumping = rand() < 0.04;
    let country: string;
    let prefix: string;
    if (pumping) {
      const p = PUMPING[Math.floor(rand() * PUMPING.length)]!;
      country = p[0];
      prefix = `+${p[1]}${p[2][Math.floor(rand() * p[2].length)]}`;
    } else {
      const c = pickCountry();
      country = c[0];
      prefix = `+${c[1]}${ranges.get(country)![zipf()]}`;
    }
    const to = prefix + digits(7);
    const kind = pumping || rand() < 0.6 ? "START" : "CHECK";
    const channel = rand() < 0.9 ? "SMS" : "CALL";
    let blocked: [string, string, number] | null = null;
    if (pumping && kind === "START") {
      const r = rand();
      if (r < 0.5) blocked = ["geo", "GEO_BLOCKED", 60605];
      else if (r < 0.8) blocked = ["prefix-guard", "PREFIX_BLOCKED", 60410];
    } else if (rand() < 0.08) {
      const b = pickBlock();
      blocked = kind === "CHECK" ? ["limits", "RATE_LIMITED", 20429] : [b[0], b[1], b[2]];
    }
    const allowedStart = kind === "START" && !blocked;
    const converted = allowedStart && rand() < (pumping ? 0.02 : 0.7);
    return {
      id: sid("VD"),
      serviceId,
      verificationId: blocked ? null : sid("VE"),
      kind,
      outcome: blocked ? "BLOCKED" : "ALLOWED",
      stage: blocked?.[0] ?? null,
      code: blocked?.[1] ?? null,
      errorCode: blocked?.[2] ?? null,
      reason: blocked ? `seeded ${blocked[0]} block` : null,
      shadow: !blocked && rand() < 0.01 ? "prefix-guard:PREFIX_BLOCKED:seeded shadow" : null,
      to,
      country,
      prefix,
      lineType: "MOBILE",
      ip: `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`,
      channel,
      tags: null,
      converted,
      attemptId: allowedStart ? sid("VL") : null,
      createdAt,
    };
  };
}

/**
 * Inserts `n` decision rows, in transactions of 10,000 rows through the store's own prepared insert
 * (the roll-up triggers run as they do in production), on either database.
 */
export async function seedDecisions(db: Db, n: number, options: SeedOptions = {}): Promise<SeedSummary> {
  const opts = {
    serviceIds: options.serviceIds ?? Array.from({ length: 5 }, (_, i) => `VA${"0".repeat(31)}${i + 1}`),
    until: options.until ?? Date.now(),
    days: options.days ?? 30,
    seed: options.seed ?? 42,
  };
  const next = generator(opts);
  const started = performance.now();
  for (let i = 0; i < n; ) {
    const rows: RiskDecisionRow[] = [];
    for (const end = Math.min(n, i + 10_000); i < end; i++) rows.push(next(i, n));
    await db.transaction(function* () {
      for (const r of rows) yield* run(insertDecision, r);
    });
  }
  return { rows: n, from: opts.until - opts.days * 86_400_000, until: opts.until, serviceIds: opts.serviceIds, ms: performance.now() - started };
}
