import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_ADMIN_KEY, BENCH_CODE_SECRET, clientIp, gql } from "./lib/gql.js";
import { runLoad, type LoadResult } from "./lib/load.js";
import { PhoneSource } from "./lib/phones.js";
import { spawnServer, type ServerProcess } from "./lib/process.js";
import type { BenchSettings } from "./lib/settings.js";

/**
 * The server the HTTP sections start: this build's, or BENCH_SERVER (another build's dist/src/main.js)
 * to compare two builds on the same machine with the same bench.
 */
export const SERVER_MAIN = process.env.BENCH_SERVER || fileURLToPath(new URL("../src/main.js", import.meta.url));
const BASELINE = fileURLToPath(new URL("./baseline-server.js", import.meta.url));

/** A load run plus the server's peak RSS during it. */
export interface HttpOpResult extends LoadResult {
  peakRssBytes: number;
}

export interface HttpResults {
  /** The baseline runs combined (mean throughput). */
  baseline: HttpOpResult;
  baselineRuns: HttpOpResult[];
  /** `vsBaseline`: throughput over the mean of the baseline runs just before and after. */
  startVerification: HttpOpResult & { vsBaseline: number };
  checkVerification: HttpOpResult & { vsBaseline: number };
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

/**
 * Load generators for start and check against one running server. Starts hand every number they
 * got a verification for to the check queue, with its code, so each check approves a real PENDING
 * verification: one valid check per number, as users do.
 */
export class VerificationLoad {
  private seq = 0;
  private readonly toCheck: { to: string; code: string }[] = [];
  private checkCursor = 0;

  constructor(
    private readonly graphqlUrl: string,
    private readonly serviceId: string,
    private readonly clientKey: string,
    private readonly phones: PhoneSource,
  ) {}

  private headers(): Record<string, string> {
    return { "content-type": "application/json", authorization: `Bearer ${this.clientKey}`, "x-forwarded-for": clientIp(++this.seq) };
  }

  /** Pending verifications waiting for their check. */
  get checkable(): number {
    return this.toCheck.length - this.checkCursor;
  }

  start(connections: number, duration: number): Promise<LoadResult> {
    return runLoad<{ to: string; code: string }>({
      url: this.graphqlUrl,
      connections,
      duration,
      next: () => {
        const i = this.seq;
        const to = this.phones.take();
        const code = codeFor(i);
        const input = { serviceId: this.serviceId, to, channel: "SMS", customCode: code };
        return { body: JSON.stringify({ query: START, variables: { input } }), headers: this.headers(), tag: { to, code } };
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
      url: this.graphqlUrl,
      connections,
      duration: 0,
      amount,
      next: () => {
        const v = this.toCheck[this.checkCursor++ % this.toCheck.length]!;
        const input = { serviceId: this.serviceId, to: v.to, code: v.code };
        return { body: JSON.stringify({ query: CHECK, variables: { input } }), headers: this.headers(), tag: null };
      },
      onAnswer: (_tag, ok, data) => {
        const check = data?.checkVerification as { valid?: boolean } | undefined;
        if (ok && check?.valid !== true) notApproved++;
      },
    });
    // A right code that did not approve is a failure of the operation even though GraphQL answered.
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
  const r = await run();
  return { ...r, peakRssBytes: server.peakRss() };
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
  };
}

/**
 * startVerification and checkVerification through the full risk pipeline on the real server, and
 * the bare baseline, each server in its own process. The machine is shared and noisy, so the
 * baseline is measured before and after each operation (B, start, B, check, B) and each operation's
 * ratio is to the mean of the two baseline runs around it: drift in the machine's speed cancels out.
 */
export async function runHttpBenchmarks(s: BenchSettings, phones: PhoneSource, log: (line: string) => void): Promise<HttpResults> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-"));
  const baselineServer = await spawnServer(BASELINE, { PORT: "0", HOST: "127.0.0.1", NODE_ENV: "production" });
  let server: ServerProcess | null = null;
  try {
    server = await spawnServer(SERVER_MAIN, benchServerEnv(dir));
    const graphqlUrl = `${server.url}/graphql`;
    const { serviceId, clientKey } = await setupService(graphqlUrl);
    const load = new VerificationLoad(graphqlUrl, serviceId, clientKey, phones);
    const baseline = baselineLoad(`${baselineServer.url}/graphql`, s);
    if (s.warmup) {
      log("  warm-up: baseline, startVerification, checkVerification");
      await baseline(s.warmup);
      await load.start(s.connections, s.warmup);
      await load.check(s.connections, Math.ceil(load.checkable / 2));
    }
    const b: HttpOpResult[] = [];
    log("  baseline (1/3)");
    b.push(await measured(baselineServer, () => baseline(s.duration)));
    log("  startVerification");
    const startVerification = await measured(server, () => load.start(s.connections, s.duration));
    log("  baseline (2/3)");
    b.push(await measured(baselineServer, () => baseline(s.duration)));
    log(`  checkVerification (${load.checkable} pending verifications, one right code each)`);
    if (load.checkable < s.connections) throw new Error("too few verifications were started to check");
    const checkVerification = await measured(server, () => load.check(s.connections, load.checkable));
    log("  baseline (3/3)");
    b.push(await measured(baselineServer, () => baseline(s.duration)));
    return {
      baseline: combine(b),
      baselineRuns: b,
      startVerification: { ...startVerification, vsBaseline: startVerification.rps / ((b[0]!.rps + b[1]!.rps) / 2) },
      checkVerification: { ...checkVerification, vsBaseline: checkVerification.rps / ((b[1]!.rps + b[2]!.rps) / 2) },
    };
  } finally {
    await server?.stop();
    await baselineServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
