import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../src/clock.js";
import { SqlStore } from "../src/store/queries/store.js";
import { SqliteDb } from "../src/store/sql/sqlite.js";
import { Services } from "../src/verification/services.js";
import { benchServerEnv, SERVER_MAIN } from "./http-ops.js";
import { BENCH_ADMIN_KEY, gql } from "./lib/gql.js";
import { loadWithDeferredRollups } from "./lib/bulk-load.js";
import { spawnServer } from "./lib/process.js";
import type { BenchSettings } from "./lib/settings.js";
import { percentile } from "./lib/table.js";
import { seedDecisions } from "./stats/seed.js";

const DAY_MS = 86_400_000;

export interface AdminQueryTiming {
  name: string;
  reps: number;
  /** Round trip over HTTP (GraphQL parse/validate is cached after the warm-up), milliseconds. */
  meanMs: number;
  p50Ms: number;
  maxMs: number;
}

export interface AdminResults {
  rows: number;
  /**
   * Seeding the decision log, all of it: batched inserts through one prepared statement (seed.ts),
   * then the indexes and the roll-ups built once (lib/bulk-load.ts).
   */
  seedMs: number;
  seedRowsPerSecond: number;
  queries: AdminQueryTiming[];
  peakRssBytes: number;
}

const ROW = `attempts allowed blocked sends checks converted conversionRatePercentage preventedSends savedUsd`;

/**
 * The admin's questions over a big decision log: `rows` decisions (default 1,000,000) over 30 days
 * and five services, seeded with the stats module's generator (bench/stats/seed.ts: a realistic
 * country and prefix mix with some SMS pumping) with the roll-ups built in bulk (lib/bulk-load.ts),
 * then asked over HTTP as an admin would, against the real server. Ranges start and end off the
 * hour, so the roll-ups and the raw log both take part.
 */
export async function runAdmin(s: BenchSettings, log: (line: string) => void): Promise<AdminResults> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-admin-"));
  const env = benchServerEnv(dir);
  try {
    const file = env.DATABASE_URL!.slice("file:".length);
    const until = systemClock.now();
    const store = new SqliteDb(file);
    let seed;
    let serviceIds: string[];
    try {
      const services = new Services(new SqlStore(store), systemClock);
      serviceIds = [];
      for (let i = 1; i <= 5; i++) serviceIds.push((await services.create({ friendlyName: `Bench ${i}` })).id);
      log(`  seeding ${s.rows.toLocaleString("en-US")} decision rows`);
      const t0 = performance.now();
      seed = await loadWithDeferredRollups(store.sqlite, "risk_decisions", () => seedDecisions(store, s.rows, { serviceIds, until, days: 30 }), log);
      seed.ms = performance.now() - t0; // the whole load: inserts, index builds and roll-ups
      log(`  seeded in ${(seed.ms / 1000).toFixed(1)} s`);
    } finally {
      await store.close();
    }

    const server = await spawnServer(SERVER_MAIN, env);
    try {
      const url = `${server.url}/graphql`;
      const from = new Date(until - 30 * DAY_MS + 7 * 3_600_000 + 123_456).toISOString();
      const to = new Date(until - 5 * 3_600_000 - 999).toISOString();
      const big = serviceIds[0]!;
      const queries: { name: string; query: string; variables: Record<string, unknown> }[] = [
        {
          name: "fraudStats by country (30 days, all services)",
          query: `query($from: DateTimeISO!, $until: DateTimeISO!) { fraudStats(from: $from, until: $until, groupBy: [COUNTRY]) { totals { ${ROW} } groupCount rows(limit: 100) { country ${ROW} } topBlockedCountries(limit: 10) { country blocked } } }`,
          variables: { from, until: to },
        },
        {
          name: "fraudStats by prefix (30 days, one service)",
          query: `query($s: ID, $from: DateTimeISO!, $until: DateTimeISO!) { fraudStats(serviceId: $s, from: $from, until: $until, groupBy: [PREFIX]) { groupCount rows(limit: 100) { prefix country ${ROW} } topBlockedPrefixes(limit: 10) { prefix country blocked } } }`,
          variables: { s: big, from, until: to },
        },
        {
          name: "verificationAttempts, first page (20)",
          query: `query($s: ID) { verificationAttempts(filter: { serviceId: $s }, first: 20) { edges { cursor node { id kind outcome stage errorCode to country prefix channel converted createdAt } } pageInfo { hasNextPage endCursor } } }`,
          variables: { s: big },
        },
        {
          name: "verificationAttempts, blocked in one country",
          query: `query($s: ID) { verificationAttempts(filter: { serviceId: $s, country: "UZ", outcome: BLOCKED }, first: 20) { edges { node { id stage errorCode prefix createdAt } } pageInfo { hasNextPage endCursor } } }`,
          variables: { s: big },
        },
        {
          name: "verificationAttemptsSummary (all time, all services)",
          query: `query { verificationAttemptsSummary { totalAttempts totalConverted totalUnconverted conversionRatePercentage } }`,
          variables: {},
        },
        {
          name: "verificationAttemptsSummary (30 days, one service, US)",
          query: `query($s: ID, $from: DateTimeISO, $until: DateTimeISO) { verificationAttemptsSummary(serviceId: $s, from: $from, until: $until, country: "US") { totalAttempts totalConverted conversionRatePercentage } }`,
          variables: { s: big, from, until: to },
        },
      ];
      server.resetPeakRss();
      const timings: AdminQueryTiming[] = [];
      for (const q of queries) {
        await gql(url, BENCH_ADMIN_KEY, q.query, q.variables); // warm-up: parse, validate, plan, page cache
        const ms: number[] = [];
        for (let r = 0; r < s.queryReps; r++) {
          const t0 = performance.now();
          await gql(url, BENCH_ADMIN_KEY, q.query, q.variables);
          ms.push(performance.now() - t0);
        }
        ms.sort((a, b) => a - b);
        timings.push({ name: q.name, reps: ms.length, meanMs: ms.reduce((a, x) => a + x, 0) / ms.length, p50Ms: percentile(ms, 50), maxMs: ms[ms.length - 1]! });
        log(`  ${q.name}: ${percentile(ms, 50).toFixed(1)} ms`);
      }
      return { rows: s.rows, seedMs: seed.ms, seedRowsPerSecond: s.rows / (seed.ms / 1000), queries: timings, peakRssBytes: server.peakRss() };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
