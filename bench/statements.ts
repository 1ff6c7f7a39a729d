import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { benchServerEnv, setupService } from "./http-ops.js";
import { installCounters, takeCounts, type Counts } from "./lib/count-statements.js";
import { clientIp } from "./lib/gql.js";
import { PhoneSource } from "./lib/phones.js";

/** Statements and commits of one kind of request, averaged over `requests` of them. */
export interface PerRequest {
  statements: number;
  commits: number;
  /** One request's statements by kind ("select verifications", "insert risk_decisions", …). */
  sample: Record<string, number>;
}

export interface StatementResults {
  requests: number;
  sqlite: Record<string, PerRequest>;
  postgres: Record<string, PerRequest> | null;
}

/** Work of the process that is no request's: the configuration version poll (store/config-cache.ts). */
const BACKGROUND = new Set(["select config_version"]);

const START = `mutation Start($input: StartVerificationInput!) { startVerification(input: $input) { id status } }`;
const CHECK = `mutation Check($input: CheckVerificationInput!) { checkVerification(input: $input) { id status valid } }`;

/**
 * How many SQL statements and commits one request costs, counted (deterministic, unlike timings) by
 * wrapping the database drivers in this process (bench/lib/count-statements.ts, bench-only) around an
 * in-process app built as the bench server is (outbox, in-process limits, the bench's service), on
 * SQLite and, with BENCH_PG_URL, on PostgreSQL. The delivery worker is off while requests are counted,
 * and its work for one job is counted on its own.
 */
export async function runStatementCounts(requests: number, pgUrl: string | null, log: (line: string) => void): Promise<StatementResults> {
  installCounters(fileURLToPath(import.meta.url));
  const sqlite = await countOn(null, requests, log);
  const postgres = pgUrl ? await countOn(pgUrl, requests, log) : null;
  return { requests, sqlite, postgres };
}

async function countOn(pgUrl: string | null, n: number, log: (line: string) => void): Promise<Record<string, PerRequest>> {
  log(`  statements per request: ${pgUrl ? "PostgreSQL" : "SQLite"}`);
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-stmts-"));
  let drop: (() => Promise<void>) | null = null;
  const env = benchServerEnv(dir);
  if (pgUrl) {
    const { default: pg } = await import("pg");
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    const name = `vg_bench_stmts_${process.pid}`;
    await admin.query(`create database ${name}`);
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    drop = async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const app: App = await createApp({ config: loadConfig(env), log: createLogger("silent"), print: () => undefined, sweeper: false, deliveryWorker: false });
  try {
    const url = `${await app.listen(0, "127.0.0.1")}/graphql`;
    const { serviceId, clientKey } = await setupService(url);
    const phones = new PhoneSource(17);
    phones.prefill(4 * n + 100);
    let ip = 0;
    const call = async (query: string, input: Record<string, unknown>) => {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${clientKey}`, "x-forwarded-for": clientIp(++ip) },
        body: JSON.stringify({ query, variables: { input } }),
      });
      const body = (await res.json()) as { errors?: { message: string }[] };
      if (body.errors) throw new Error(`bench request failed: ${body.errors[0]!.message}`);
    };
    const code = (i: number) => String(100_000 + i);
    const started: { to: string; code: string }[] = [];
    const startOne = async () => {
      const to = phones.take();
      const c = code(started.length);
      await call(START, { serviceId, to, channel: "SMS", customCode: c });
      started.push({ to, code: c });
    };
    // Warm: caches filled, counters and roll-up rows exist, as on a running server.
    for (let i = 0; i < 20; i++) await startOne();
    const measure = async (op: (i: number) => Promise<unknown>): Promise<PerRequest> => {
      takeCounts();
      let statements = 0;
      let commits = 0;
      let sample: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        await op(i);
        const c = foreground(takeCounts());
        statements += c.statements;
        commits += c.commits;
        if (i === 0) sample = c.byKind;
      }
      return { statements: statements / n, commits: commits / n, sample };
    };
    const base = started.length;
    const out: Record<string, PerRequest> = {};
    out.start = await measure(() => startOne());
    out.resend = await measure((i) => call(START, { serviceId, to: started[base + i]!.to, channel: "SMS", customCode: started[base + i]!.code }));
    out["check (right code)"] = await measure((i) => call(CHECK, { serviceId, to: started[i]!.to, code: started[i]!.code }));
    out["check (wrong code)"] = await measure((i) => call(CHECK, { serviceId, to: started[base + i]!.to, code: "000000" }));
    // The worker's share: every job written above, sent one by one through the outbox.
    const jobs = started.length + n;
    takeCounts();
    app.dispatcher.start();
    await app.dispatcher.idle();
    const worker = foreground(takeCounts());
    out["delivery worker, per job"] = { statements: worker.statements / jobs, commits: worker.commits / jobs, sample: {} };
    return out;
  } finally {
    await app.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The counts without the process's background work. */
function foreground(c: Counts): Counts {
  let statements = c.statements;
  const byKind: Record<string, number> = {};
  for (const [kind, k] of Object.entries(c.byKind)) {
    if (BACKGROUND.has(kind)) statements -= k;
    else byKind[kind] = k;
  }
  return { statements, commits: c.commits, byKind };
}
