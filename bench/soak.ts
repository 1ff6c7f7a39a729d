import Database from "better-sqlite3";
import { createClient, type Client } from "graphql-ws";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { TwilioStandin, twilioEnv } from "../test/helpers/twilio-standin.js";
import { BENCH_SHADOW_STAGES, benchServerEnv, SERVER_MAIN } from "./http-ops.js";
import { BENCH_ADMIN_KEY, gql } from "./lib/gql.js";
import { procStatusBytes, spawnServer, type ServerProcess } from "./lib/process.js";

/**
 * `npm run soak -- --minutes 10`: the real server (embedded SQLite, delivery through the Twilio
 * stand-in) under mixed start / check / subscribe load, killed with SIGKILL at random points during
 * the first 60 % of the run and restarted on the same file and port; the last 40 % runs without kills
 * and is where memory is judged. Then it prints the RSS trend, open handles, and the invariants:
 * 0 double approvals, 0 lost and 0 duplicated sends, every acknowledged verification present.
 * Exits 1 when an invariant fails or memory grows more than 10 % after warm-up.
 */

const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { id } }`;
const CHECK = `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { valid status } }`;
const UPDATED = `subscription($id: ID!) { verificationUpdated(verificationId: $id) { type } }`;

interface Args {
  minutes: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string, fallback: number) => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : fallback;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  return { minutes: get("minutes", 10), concurrency: get("concurrency", 8) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (n: number) => Math.floor(Math.random() * n);

interface Sample {
  atS: number;
  life: number;
  rssMiB: number;
  fds: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const durationMs = args.minutes * 60_000;
  const killUntil = 0.6 * durationMs;
  const dir = mkdtempSync(join(tmpdir(), "vg-soak-"));
  const standin = new TwilioStandin();
  await standin.start();
  const env: Record<string, string> = { ...benchServerEnv(dir), ...twilioEnv(standin), TWILIO_TIMEOUT_MS: "2000", LOG_LEVEL: "error" };
  const log = (line: string) => process.stderr.write(line + "\n");

  let server: ServerProcess = await spawnServer(SERVER_MAIN, env);
  const port = new URL(server.url).port;
  env.PORT = port;
  const base = server.url;
  const graphql = `${base}/graphql`;
  const { createService } = await gql<{ createService: { id: string } }>(graphql, BENCH_ADMIN_KEY, `mutation { createService(input: { friendlyName: "Soak", customCodeEnabled: true }) { id } }`);
  const serviceId = createService.id;
  // A soak is thousands of sends nobody else checks: the fraud heuristics would rightly stop them.
  await gql(graphql, BENCH_ADMIN_KEY, `mutation($s: ID!, $st: [String!]!) { setShadowStages(serviceId: $s, stages: $st) { shadowStages } }`, { s: serviceId, st: BENCH_SHADOW_STAGES });

  const t0 = Date.now();
  let life = 1;
  let kills = 0;
  let down = false;
  const samples: Sample[] = [];
  const acknowledged = new Map<string, { to: string; code: string }>();
  const pending: string[] = [];
  const approvals = new Map<string, number>();
  const counts = { starts: 0, checks: 0, wrongChecks: 0, subscriptions: 0, events: 0, refused: new Map<string, number>(), transportErrors: 0 };
  let seq = 0;

  const call = async (query: string, variables: Record<string, unknown>): Promise<{ data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] } | null> => {
    try {
      const res = await fetch(graphql, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${BENCH_ADMIN_KEY}` }, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(10_000) });
      return (await res.json()) as never;
    } catch {
      counts.transportErrors++;
      return null; // the server is down: the outcome is unknown, so nothing is acknowledged
    }
  };
  const refused = (r: { errors?: { extensions?: { code?: string } }[] }) => {
    const code = r.errors?.[0]?.extensions?.code ?? "?";
    counts.refused.set(code, (counts.refused.get(code) ?? 0) + 1);
  };

  const start = async () => {
    const n = seq++;
    const to = "+447400" + String(n % 1_000_000).padStart(6, "0");
    const code = String(100000 + rand(900000));
    counts.starts++;
    const r = await call(START, { input: { serviceId, to, channel: "SMS", customCode: code } });
    if (!r) return;
    if (r.errors) return refused(r);
    const id = (r.data!.startVerification as { id: string }).id;
    acknowledged.set(id, { to, code });
    pending.push(id);
  };
  const check = async (right: boolean) => {
    if (pending.length === 0) return;
    const id = pending.splice(rand(pending.length), 1)[0]!;
    const v = acknowledged.get(id)!;
    counts.checks++;
    if (!right) counts.wrongChecks++;
    // A right code is sometimes sent twice at once: exactly one may approve.
    const tries = right && Math.random() < 0.3 ? 2 : 1;
    const results = await Promise.all(Array.from({ length: tries }, () => call(CHECK, { input: { serviceId, verificationId: id, code: right ? v.code : "000000" } })));
    for (const r of results) {
      if (!r) continue;
      if (r.errors) {
        refused(r);
        continue;
      }
      if ((r.data!.checkVerification as { valid: boolean }).valid) approvals.set(id, (approvals.get(id) ?? 0) + 1);
    }
    if (!right) pending.push(id);
  };
  const subscribe = async () => {
    const id = [...acknowledged.keys()][rand(acknowledged.size)];
    if (!id) return;
    counts.subscriptions++;
    const client: Client = createClient({ url: graphql.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${BENCH_ADMIN_KEY}` }, retryAttempts: 0 });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe();
        resolve();
      }, 200 + rand(800));
      const unsubscribe = client.subscribe({ query: UPDATED, variables: { id } }, {
        next: () => void counts.events++,
        error: () => {
          clearTimeout(timer);
          resolve();
        },
        complete: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
    await client.dispose();
  };

  const worker = async () => {
    while (Date.now() - t0 < durationMs) {
      if (down) {
        await sleep(50);
        continue;
      }
      const p = Math.random();
      if (p < 0.45) await start();
      else if (p < 0.7) await check(true);
      else if (p < 0.8) await check(false);
      else await subscribe();
    }
  };

  const sampler = setInterval(() => {
    if (down) return;
    let fds = 0;
    try {
      fds = readdirSync(`/proc/${server.pid}/fd`).length;
    } catch {
      /* gone */
    }
    samples.push({ atS: Math.round((Date.now() - t0) / 1000), life, rssMiB: procStatusBytes(server.pid, "VmRSS") / 2 ** 20, fds });
  }, 5_000);

  const killer = (async () => {
    while (Date.now() - t0 < killUntil) {
      await sleep(10_000 + rand(30_000));
      if (Date.now() - t0 >= killUntil) break;
      down = true;
      process.kill(server.pid, "SIGKILL");
      await sleep(200);
      kills++;
      server = await spawnServer(SERVER_MAIN, env);
      life++;
      down = false;
      log(`  ${Math.round((Date.now() - t0) / 1000)} s: kill -9 #${kills}, restarted`);
    }
  })();

  log(`soak: ${args.minutes} min, ${args.concurrency} workers, kill -9 during the first ${Math.round(killUntil / 60_000)} min`);
  await Promise.all([...Array.from({ length: args.concurrency }, worker), killer]);
  clearInterval(sampler);

  // Drain: every committed send job must reach the provider (a job left "sending" by a kill waits out its lease).
  const dbFile = join(dir, "verify.db");
  const db = new Database(dbFile, { readonly: true });
  const deadline = Date.now() + 120_000;
  let open = 0;
  for (;;) {
    open = (db.prepare(`select count(*) as n from delivery_jobs where status in ('pending', 'sending')`).get() as { n: number }).n;
    if (open === 0 || Date.now() > deadline) break;
    await sleep(1_000);
  }

  // Open handles: a graceful stop must end the process on its own (nothing left holding the loop).
  const fdsAtEnd = readdirSync(`/proc/${server.pid}/fd`).length;
  const stopStarted = Date.now();
  await server.stop();
  const stopMs = Date.now() - stopStarted;

  const jobs = db.prepare(`select id, verification_id as v, status from delivery_jobs`).all() as { id: string; v: string; status: string }[];
  const attempts = (db.prepare(`select count(*) as n from send_attempts`).get() as { n: number }).n;
  const present = new Set((db.prepare(`select id from verifications`).all() as { id: string }[]).map((r) => r.id));
  db.close();
  const byToken = new Map<string, number>();
  for (const c of standin.created) byToken.set(c.idempotencyToken ?? "", (byToken.get(c.idempotencyToken ?? "") ?? 0) + 1);
  // Lost: a job that should have reached the provider and did not. A job canceled because its
  // verification was final before the send (approved with a custom code, canceled) owes no message.
  const lost = jobs.filter((j) => j.status !== "canceled" && !byToken.has(j.id)).length;
  const statuses = jobs.reduce<Record<string, number>>((a, j) => ({ ...a, [j.status]: (a[j.status] ?? 0) + 1 }), {});
  // A send is one job (one per send attempt, a unique index); a duplicate is a second message for a job, or a message of no job.
  const jobIds = new Set(jobs.map((j) => j.id));
  const duplicated = [...byToken].reduce((a, [token, n]) => a + (jobIds.has(token) ? n - 1 : n), 0);
  const retriedRequests = standin.requests.filter((r) => r.kind === "Messages").length - standin.created.length;
  const missing = [...acknowledged.keys()].filter((id) => !present.has(id)).length;
  const doubleApprovals = [...approvals.values()].filter((n) => n > 1).length;

  const last = samples.filter((s) => s.life === life);
  const warm = last.filter((s) => s.atS - last[0]!.atS >= 30);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const firstMin = warm.filter((s) => s.atS - warm[0]!.atS < 60).map((s) => s.rssMiB);
  const lastMin = warm.filter((s) => warm.at(-1)!.atS - s.atS < 60).map((s) => s.rssMiB);
  const growth = median(lastMin) / median(firstMin) - 1;

  const out = (line = "") => process.stdout.write(line + "\n");
  out(`\nSoak: ${args.minutes} min, ${args.concurrency} workers, ${kills} kill -9 restarts (${life} server lives)`);
  out(`Load: ${counts.starts} starts (${acknowledged.size} acknowledged), ${counts.checks} checks (${counts.wrongChecks} wrong), ${counts.subscriptions} subscriptions (${counts.events} events), ${counts.transportErrors} requests cut by a kill`);
  out(`Refused: ${[...counts.refused].map(([c, n]) => `${c} ${n}`).join(", ") || "none"}`);
  out(`RSS of the last life (kill-free), every 5 s after 30 s of warm-up, MiB: ${warm.map((s) => s.rssMiB.toFixed(0)).join(" ")}`);
  out(`RSS median first minute ${median(firstMin).toFixed(1)} MiB, last minute ${median(lastMin).toFixed(1)} MiB: ${(growth * 100).toFixed(1)} % (bar: within 10 %)`);
  out(`Open file descriptors: ${warm[0]?.fds ?? "?"} after warm-up, ${fdsAtEnd} at the end; graceful stop took ${stopMs} ms`);
  out(`Sends: ${attempts} send attempts, ${jobs.length} jobs (${Object.entries(statuses).map(([k, n]) => `${n} ${k}`).join(", ")}; ${open} still open), ${standin.created.length} messages at the provider, ${retriedRequests} retried requests deduplicated by idempotency token`);
  out(`Invariants: double approvals ${doubleApprovals}, lost sends ${lost}, duplicated sends ${duplicated}, acknowledged verifications missing ${missing} of ${acknowledged.size}`);

  await standin.close();
  rmSync(dir, { recursive: true, force: true });
  const ok = doubleApprovals === 0 && lost === 0 && duplicated === 0 && missing === 0 && open === 0 && !(growth > 0.1);
  out(ok ? "PASS" : "FAIL");
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
