import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_ADMIN_KEY, BENCH_CODE_SECRET, clientIp, gql } from "./lib/gql.js";
import { runLoad, type LoadResult } from "./lib/load.js";
import { PhoneSource } from "./lib/phones.js";
import { procCpuMs, spawnServer, type ServerProcess } from "./lib/process.js";
import type { BenchSettings } from "./lib/settings.js";

/**
 * The server the HTTP sections start: this build's, or BENCH_SERVER (another build's dist/src/main.js)
 * to compare two builds on the same machine with the same bench.
 */
export const SERVER_MAIN = process.env.BENCH_SERVER || fileURLToPath(new URL("../src/main.js", import.meta.url));
const BASELINE = fileURLToPath(new URL("./baseline-server.js", import.meta.url));

/** A load run plus the server's peak RSS during it and its own CPU time per request. */
export interface HttpOpResult extends LoadResult {
  peakRssBytes: number;
  /**
   * The server process's CPU time (user + system, /proc/<pid>/stat) over the run, per request: what
   * the request cost the server, much less moved by other load on the machine than throughput is.
   */
  cpuMsPerRequest: number;
}

export interface HttpResults {
  /** The baseline runs combined (mean throughput). */
  baseline: HttpOpResult;
  baselineRuns: HttpOpResult[];
  /** `vsBaseline`: throughput over the mean of the baseline runs just before and after. */
  startVerification: HttpOpResult & { vsBaseline: number };
  checkVerification: HttpOpResult & { vsBaseline: number };
  /** The same start and check over the Twilio-compatible REST API; `vsGraphql` = REST rps / GraphQL rps (server CPU per request: `cpuMsPerRequest` of each). */
  restStart: HttpOpResult & { vsBaseline: number; vsGraphql: number };
  restCheck: HttpOpResult & { vsBaseline: number; vsGraphql: number };
  /** The same GraphQL start and check on a server on PostgreSQL and Redis (BENCH_PG_URL, BENCH_REDIS_URL). */
  postgres: { startVerification: HttpOpResult & { vsBaseline: number }; checkVerification: HttpOpResult & { vsBaseline: number } } | null;
}

/**
 * The environment of the bench server: the embedded default (SQLite file in a temp dir, outbox
 * delivery, in-process limits and events). TRUST_PROXY=127.0.0.1/32 makes the server believe the
 * load generator's X-Forwarded-For, and every request carries a distinct client address, so the
 * per-IP limits count each simulated client separately instead of stopping one busy loopback IP.
 * LOG_LEVEL=warn keeps the outbox's per-message info line off the hot path (production logs go to
 * a collector; the bench measures the service, not stdout). SPEND_DAILY_BUDGET_CENTS is raised to its
 * maximum: the default $50 a day is spent after a few thousand bench sends, and the spend guard would
 * then refuse every start before its writes (it still runs and reserves spend on every start).
 */
export function benchServerEnv(dir: string): Record<string, string> {
  return {
    DATABASE_URL: `file:${join(dir, "verify.db")}`,
    PORT: "0",
    HOST: "127.0.0.1",
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    ADMIN_API_KEY: BENCH_ADMIN_KEY,
    CODE_SECRET: BENCH_CODE_SECRET,
    TRUST_PROXY: "127.0.0.1/32",
    SPEND_DAILY_BUDGET_CENTS: "100000000",
  };
}

const START = `mutation Start($input: StartVerificationInput!) { startVerification(input: $input) { id status } }`;
const CHECK = `mutation Check($input: CheckVerificationInput!) { checkVerification(input: $input) { id status valid } }`;
const PING = `mutation Ping($input: PingInput!) { ping(input: $input) { id status to } }`;

/**
 * The stages whose verdict depends on conversion: they block prefixes (and IPs) whose sends are not
 * followed by approvals. A start-only run is, by construction, thousands of unconverted sends, the
 * very pattern they exist to stop, so the bench service runs them in shadow mode: they still do all
 * their work (counting, judging, the detector writing its auto-blocks) and record what they would
 * have blocked, but the request goes on, as it would for real users who do enter their codes.
 */
export const BENCH_SHADOW_STAGES = ["prefix-guard", "signals"];

/**
 * A service with custom codes (so the bench knows every code it must check), the conversion-driven
 * stages in shadow mode (see {@link BENCH_SHADOW_STAGES}), and a CLIENT key for it (the per-IP limits
 * apply to client keys, as for a real app's traffic).
 */
export async function setupService(graphqlUrl: string): Promise<{ serviceId: string; clientKey: string }> {
  const { createService } = await gql<{ createService: { id: string } }>(
    graphqlUrl,
    BENCH_ADMIN_KEY,
    `mutation($input: CreateServiceInput!) { createService(input: $input) { id } }`,
    { input: { friendlyName: "Bench", customCodeEnabled: true } },
  );
  await gql(graphqlUrl, BENCH_ADMIN_KEY, `mutation($s: ID!, $stages: [String!]!) { setShadowStages(serviceId: $s, stages: $stages) { serviceId } }`, {
    s: createService.id,
    stages: BENCH_SHADOW_STAGES,
  });
  const { createApiKey } = await gql<{ createApiKey: { secret: string } }>(
    graphqlUrl,
    BENCH_ADMIN_KEY,
    `mutation($serviceId: ID!) { createApiKey(role: CLIENT, serviceId: $serviceId, name: "bench") { secret } }`,
    { serviceId: createService.id },
  );
  return { serviceId: createService.id, clientKey: createApiKey.secret };
}

/** The code the bench gives number #i (custom codes, 6 digits). */
const codeFor = (i: number) => String(100_000 + ((i * 7919) % 900_000));

/** One start or check as a request: body and headers. */
interface WireRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * How one API asks for a start and a check of the same verification: GraphQL's mutations, or the
 * Twilio-compatible REST API's form posts. The same client key, service and numbers either way, so
 * the two measure the same work through two adapters.
 */
export interface VerifyWire {
  startUrl: string;
  checkUrl: string;
  start(v: { to: string; code: string }, ip: string): WireRequest;
  check(v: { to: string; code: string }, ip: string): WireRequest;
  /** Whether a check's answer (GraphQL `data`, or the REST JSON) approved. */
  approved(data: Record<string, unknown> | null): boolean;
}

export function graphqlWire(graphqlUrl: string, serviceId: string, clientKey: string): VerifyWire {
  const headers = (ip: string) => ({ "content-type": "application/json", authorization: `Bearer ${clientKey}`, "x-forwarded-for": ip });
  return {
    startUrl: graphqlUrl,
    checkUrl: graphqlUrl,
    start: (v, ip) => ({ body: JSON.stringify({ query: START, variables: { input: { serviceId, to: v.to, channel: "SMS", customCode: v.code } } }), headers: headers(ip) }),
    check: (v, ip) => ({ body: JSON.stringify({ query: CHECK, variables: { input: { serviceId, to: v.to, code: v.code } } }), headers: headers(ip) }),
    approved: (data) => (data?.checkVerification as { valid?: boolean } | undefined)?.valid === true,
  };
}

/** The REST API with HTTP Basic as the `twilio` SDK sends it: the account SID and the client key. */
export async function restWire(baseUrl: string, serviceId: string, clientKey: string): Promise<VerifyWire> {
  const { accountSid } = await gql<{ accountSid: string }>(`${baseUrl}/graphql`, BENCH_ADMIN_KEY, `{ accountSid }`);
  const authorization = `Basic ${Buffer.from(`${accountSid}:${clientKey}`).toString("base64")}`;
  const headers = (ip: string) => ({ "content-type": "application/x-www-form-urlencoded", authorization, "x-forwarded-for": ip });
  return {
    startUrl: `${baseUrl}/v2/Services/${serviceId}/Verifications`,
    checkUrl: `${baseUrl}/v2/Services/${serviceId}/VerificationCheck`,
    start: (v, ip) => ({ body: new URLSearchParams({ To: v.to, Channel: "sms", CustomCode: v.code }).toString(), headers: headers(ip) }),
    check: (v, ip) => ({ body: new URLSearchParams({ To: v.to, Code: v.code }).toString(), headers: headers(ip) }),
    approved: (data) => data?.valid === true,
  };
}

/**
 * Load generators for start and check against one running server, over one API. Starts hand every
 * number they got a verification for to the check queue, with its code, so each check approves a
 * real PENDING verification: one valid check per number, as users do.
 */
export class VerificationLoad {
  private seq = 0;
  private readonly toCheck: { to: string; code: string }[] = [];
  private checkCursor = 0;

  constructor(
    private readonly wire: VerifyWire,
    private readonly phones: PhoneSource,
  ) {}

  /** Pending verifications waiting for their check. */
  get checkable(): number {
    return this.toCheck.length - this.checkCursor;
  }

  start(connections: number, duration: number): Promise<LoadResult> {
    return runLoad<{ to: string; code: string }>({
      url: this.wire.startUrl,
      connections,
      duration,
      next: () => {
        const v = { to: this.phones.take(), code: codeFor(this.seq) };
        return { ...this.wire.start(v, clientIp(++this.seq)), tag: v };
      },
      onAnswer: (tag, ok) => {
        if (ok) this.toCheck.push(tag);
      },
    });
  }

  /** Checks `amount` of the pending verifications (each with its right code). */
  async check(connections: number, amount: number): Promise<LoadResult> {
    let notApproved = 0;
    const result = await runLoad<null>({
      url: this.wire.checkUrl,
      connections,
      duration: 0,
      amount,
      next: () => {
        const v = this.toCheck[this.checkCursor++ % this.toCheck.length]!;
        return { ...this.wire.check(v, clientIp(++this.seq)), tag: null };
      },
      onAnswer: (_tag, ok, data) => {
        if (ok && !this.wire.approved(data)) notApproved++;
      },
    });
    // A right code that did not approve is a failure of the operation even though the API answered.
    if (notApproved) {
      result.errorCodes.NOT_APPROVED = notApproved;
      result.errors += notApproved;
      result.errorRate = result.errors / result.requests;
    }
    return result;
  }
}

async function measured(server: ServerProcess, run: () => Promise<LoadResult>): Promise<HttpOpResult> {
  server.resetPeakRss();
  const cpuBefore = procCpuMs(server.pid);
  const r = await run();
  return { ...r, peakRssBytes: server.peakRss(), cpuMsPerRequest: r.requests ? (procCpuMs(server.pid) - cpuBefore) / r.requests : 0 };
}

/** The bare Apollo baseline's load: the trivial mutation, same connections, headers and body size. */
function baselineLoad(url: string, s: BenchSettings): (duration: number) => Promise<LoadResult> {
  let i = 0;
  return (duration) =>
    runLoad<null>({
      url,
      connections: s.connections,
      duration,
      next: () => {
        const input = { serviceId: "VA00000000000000000000000000000000", to: `+4474${String(++i).padStart(8, "0")}`, channel: "SMS" };
        return {
          body: JSON.stringify({ query: PING, variables: { input } }),
          headers: { "content-type": "application/json", authorization: `Bearer ${BENCH_ADMIN_KEY}`, "x-forwarded-for": clientIp(i) },
          tag: null,
        };
      },
    });
}

/** Several baseline runs as one row: mean throughput, median latencies, summed errors, max RSS. */
function combine(runs: HttpOpResult[]): HttpOpResult {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const errors = runs.reduce((a, r) => a + r.errors, 0);
  const errorCodes: Record<string, number> = {};
  for (const r of runs) for (const [c, n] of Object.entries(r.errorCodes)) errorCodes[c] = (errorCodes[c] ?? 0) + n;
  return {
    requests,
    seconds: runs.reduce((a, r) => a + r.seconds, 0),
    rps: runs.reduce((a, r) => a + r.rps, 0) / runs.length,
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors,
    errorRate: requests ? errors / requests : 0,
    errorCodes,
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
  };
}

/**
 * startVerification and checkVerification through the full risk pipeline on the real server, over
 * GraphQL and over the Twilio-compatible REST API, and the bare baseline, each server in its own
 * process. The machine is shared and noisy, so the baseline is measured around the operations
 * (B, GraphQL start, REST start, B, REST check, GraphQL check, B) and each operation's ratio is to the
 * mean of the two baseline runs around it: drift in the machine's speed cancels out. The two APIs run
 * back to back on the same server, service and key (their order alternates, so neither always meets
 * the larger database), and REST/GraphQL compares the same work through the two adapters.
 */
export async function runHttpBenchmarks(s: BenchSettings, phones: PhoneSource, log: (line: string) => void): Promise<HttpResults> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-"));
  const baselineServer = await spawnServer(BASELINE, { PORT: "0", HOST: "127.0.0.1", NODE_ENV: "production" });
  let server: ServerProcess | null = null;
  try {
    server = await spawnServer(SERVER_MAIN, benchServerEnv(dir));
    const graphqlUrl = `${server.url}/graphql`;
    const { serviceId, clientKey } = await setupService(graphqlUrl);
    const load = new VerificationLoad(graphqlWire(graphqlUrl, serviceId, clientKey), phones);
    const rest = new VerificationLoad(await restWire(server.url, serviceId, clientKey), phones);
    const baseline = baselineLoad(`${baselineServer.url}/graphql`, s);
    if (s.warmup) {
      log("  warm-up: baseline, start and check over GraphQL and REST");
      await baseline(s.warmup);
      for (const l of [load, rest]) {
        await l.start(s.connections, s.warmup);
        await l.check(s.connections, Math.ceil(l.checkable / 2));
      }
    }
    const checkAll = (l: VerificationLoad) => {
      if (l.checkable < s.connections) throw new Error("too few verifications were started to check");
      return measured(server!, () => l.check(s.connections, l.checkable));
    };
    const b: HttpOpResult[] = [];
    log("  baseline (1/3)");
    b.push(await measured(baselineServer, () => baseline(s.duration)));
    log("  startVerification (GraphQL)");
    const startVerification = await measured(server, () => load.start(s.connections, s.duration));
    log("  POST /v2/Services/{sid}/Verifications (REST)");
    const restStart = await measured(server, () => rest.start(s.connections, s.duration));
    log("  baseline (2/3)");
    b.push(await measured(baselineServer, () => baseline(s.duration)));
    log(`  POST /v2/Services/{sid}/VerificationCheck (REST, ${rest.checkable} pending verifications, one right code each)`);
    const restCheck = await checkAll(rest);
    log(`  checkVerification (GraphQL, ${load.checkable} pending verifications, one right code each)`);
    const checkVerification = await checkAll(load);
    log("  baseline (3/3)");
    b.push(await measured(baselineServer, () => baseline(s.duration)));
    const postgres = await scaleOutRuns(s, phones, log, () => measured(baselineServer, () => baseline(s.duration)));
    const around = (i: number) => (b[i]!.rps + b[i + 1]!.rps) / 2;
    return {
      baseline: combine(b),
      baselineRuns: b,
      startVerification: { ...startVerification, vsBaseline: startVerification.rps / around(0) },
      checkVerification: { ...checkVerification, vsBaseline: checkVerification.rps / around(1) },
      restStart: { ...restStart, vsBaseline: restStart.rps / around(0), vsGraphql: restStart.rps / startVerification.rps },
      restCheck: { ...restCheck, vsBaseline: restCheck.rps / around(1), vsGraphql: restCheck.rps / checkVerification.rps },
      postgres,
    };
  } finally {
    await server?.stop();
    await baselineServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The GraphQL start and check on the scale-out backends (a fresh PostgreSQL database on BENCH_PG_URL's
 * server, Redis on BENCH_REDIS_URL under a fresh key prefix), each between two more baseline runs:
 * B, start, B, check. Null when BENCH_PG_URL is unset.
 */
async function scaleOutRuns(
  s: BenchSettings,
  phones: PhoneSource,
  log: (line: string) => void,
  baselineRun: () => Promise<HttpOpResult>,
): Promise<HttpResults["postgres"]> {
  const pgUrl = process.env.BENCH_PG_URL;
  if (!pgUrl) return null;
  const { default: pg } = await import("pg");
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  const name = `vg_bench_http_${process.pid}`;
  await admin.query(`create database ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-pg-"));
  const env = { ...benchServerEnv(dir), DATABASE_URL: url.toString(), ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL, REDIS_KEY_PREFIX: `vg-bench:${process.pid}:` } : {}) };
  let server: ServerProcess | null = null;
  try {
    server = await spawnServer(SERVER_MAIN, env);
    const graphqlUrl = `${server.url}/graphql`;
    const { serviceId, clientKey } = await setupService(graphqlUrl);
    const load = new VerificationLoad(graphqlWire(graphqlUrl, serviceId, clientKey), phones);
    if (s.warmup) {
      await load.start(s.connections, s.warmup);
      await load.check(s.connections, Math.ceil(load.checkable / 2));
    }
    log(`  startVerification on PostgreSQL${env.REDIS_URL ? " + Redis" : ""}`);
    const start = await measured(server, () => load.start(s.connections, s.duration));
    const b1 = await baselineRun();
    log(`  checkVerification on PostgreSQL${env.REDIS_URL ? " + Redis" : ""} (${load.checkable} pending)`);
    const check = await measured(server, () => load.check(s.connections, load.checkable));
    const b2 = await baselineRun();
    return { startVerification: { ...start, vsBaseline: start.rps / b1.rps }, checkVerification: { ...check, vsBaseline: check.rps / ((b1.rps + b2.rps) / 2) } };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
