import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchServerEnv, SERVER_MAIN } from "./http-ops.js";
import { BENCH_ADMIN_KEY, gql } from "./lib/gql.js";
import { procCpuMs, spawnServer } from "./lib/process.js";
import type { BenchSettings } from "./lib/settings.js";
import { percentile } from "./lib/table.js";

/** The request of the audit (issue 13, finding 1): 3,000 aliases of `services { id }`, about 56 kB. */
export const ALIASES_56K_BODY = JSON.stringify({ query: `{${Array.from({ length: 3000 }, (_, i) => `a${i}:services{id}`).join(" ")}}` });

export interface AuthGateResults {
  bodyBytes: number;
  /** Server CPU per anonymous 56 kB request (refused with 20401), from /proc over `requests` requests. */
  anonymous: { requests: number; cpuMsPerRequest: number; statuses: Record<string, number> };
  /** The same body with a CLIENT key (refused by the CLIENT cost budget, after parsing and validation). */
  client: { requests: number; cpuMsPerRequest: number; statuses: Record<string, number> };
  /** /healthz latency alone, and while 4 anonymous 56 kB streams run. */
  healthzIdle: { samples: number; p50Ms: number; p99Ms: number };
  healthzUnderLoad: { samples: number; p50Ms: number; p99Ms: number; streams: number; anonymousRequests: number };
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function send(url: URL, method: "GET" | "POST", body?: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } : headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function stream(url: URL, body: string, headers: Record<string, string>, until: () => boolean, statuses: Record<string, number>): Promise<number> {
  let n = 0;
  while (!until()) {
    const status = await send(url, "POST", body, headers);
    statuses[status] = (statuses[status] ?? 0) + 1;
    n++;
  }
  return n;
}

async function cpuPerRequest(pid: number, url: URL, body: string, headers: Record<string, string>, requests: number): Promise<{ requests: number; cpuMsPerRequest: number; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {};
  let left = requests;
  const before = procCpuMs(pid);
  await Promise.all(Array.from({ length: 4 }, () => stream(url, body, headers, () => left-- <= 0, statuses)));
  return { requests, cpuMsPerRequest: (procCpuMs(pid) - before) / requests, statuses };
}

async function healthz(base: string, ms: number): Promise<{ samples: number; p50Ms: number; p99Ms: number }> {
  const url = new URL("/healthz", base);
  const times: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = performance.now();
    await send(url, "GET");
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
  times.sort((a, b) => a - b);
  return { samples: times.length, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
}

/**
 * Authenticate before any work (issue 13): the server's CPU per anonymous 56 kB request (the issue's
 * bar: under 2 ms) and /healthz latency while four anonymous streams hammer it (bar: p99 under 20 ms).
 * CPU is read from /proc/<server pid>/stat, so it is the server's own, whatever the load generator costs.
 */
export async function runAuthGate(s: BenchSettings, log: (line: string) => void): Promise<AuthGateResults> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-gate-"));
  const server = await spawnServer(SERVER_MAIN, benchServerEnv(dir));
  try {
    const graphql = new URL("/graphql", server.url);
    const { createService } = await gql<{ createService: { id: string } }>(graphql.href, BENCH_ADMIN_KEY, `mutation { createService(input: { friendlyName: "Gate" }) { id } }`);
    const { createApiKey } = await gql<{ createApiKey: { secret: string } }>(graphql.href, BENCH_ADMIN_KEY, `mutation($s: ID!) { createApiKey(role: CLIENT, serviceId: $s, name: "bench") { secret } }`, { s: createService.id });
    const requests = Math.max(200, Math.round(s.duration * 100));

    log(`  ${requests} anonymous 56 kB requests`);
    await cpuPerRequest(server.pid, graphql, ALIASES_56K_BODY, {}, 50); // warm-up
    const anonymous = await cpuPerRequest(server.pid, graphql, ALIASES_56K_BODY, {}, requests);
    log(`  ${Math.round(requests / 4)} CLIENT-key 56 kB requests`);
    const client = await cpuPerRequest(server.pid, graphql, ALIASES_56K_BODY, { authorization: `Bearer ${createApiKey.secret}` }, Math.round(requests / 4));

    log(`  /healthz alone, then under 4 anonymous streams (${s.duration} s each)`);
    const healthzIdle = await healthz(server.url, s.duration * 1000);
    let stop = false;
    const statuses: Record<string, number> = {};
    const streams = Array.from({ length: 4 }, () => stream(graphql, ALIASES_56K_BODY, {}, () => stop, statuses));
    const underLoad = await healthz(server.url, s.duration * 1000);
    stop = true;
    const anonymousRequests = (await Promise.all(streams)).reduce((a, b) => a + b, 0);
    return { bodyBytes: Buffer.byteLength(ALIASES_56K_BODY), anonymous, client, healthzIdle, healthzUnderLoad: { ...underLoad, streams: 4, anonymousRequests } };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
