import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runHttpBenchmarks, type HttpOpResult, type HttpResults } from "./http-ops.js";
import { PhoneSource } from "./lib/phones.js";
import { runAdmin } from "./admin.js";
import { runAuthGate } from "./auth-gate.js";
import { runFanout } from "./fanout.js";
import { runMicro, type StageTiming } from "./micro.js";
import { runProfile } from "./profile.js";
import { runQueryLayer } from "./query-layer.js";
import { runStatementCounts } from "./statements.js";
import type { Timing } from "./lib/timing.js";
import { machine, readSettings } from "./lib/settings.js";
import { fmt, renderTable, type Row } from "./lib/table.js";

const RESULTS = fileURLToPath(new URL("../../bench/results.json", import.meta.url));

function log(line: string): void {
  process.stderr.write(line + "\n");
}

function httpRow(name: string, r: HttpOpResult, vsBaseline: number): Row {
  const codes = Object.entries(r.errorCodes).map(([c, n]) => `${c} ${n}`).join(", ");
  return {
    benchmark: name,
    throughput: fmt.rate(r.rps, "req/s"),
    vsBaseline: fmt.ratio(vsBaseline),
    p50: fmt.ms(r.p50),
    p99: fmt.ms(r.p99),
    errors: fmt.pct(r.errorRate) + (codes ? ` (${codes})` : ""),
    peakRss: fmt.mib(r.peakRssBytes),
  };
}

/** One decimal, dropped when whole. */
function fmt1(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function microRow(name: string, t: Timing): Row {
  return {
    benchmark: `${name} (mean ${fmt.us(t.meanUs)})`,
    throughput: fmt.rate(t.perSecond, "decisions/s"),
    vsBaseline: fmt.none,
    p50: fmt.us(t.p50Us),
    p99: fmt.us(t.p99Us),
    errors: fmt.none,
    peakRss: fmt.none,
  };
}

async function main(): Promise<void> {
  const s = readSettings();
  const m = machine();
  log(`verify-guard bench on ${m.nproc} × ${m.cpu}, Node ${m.node}; ${s.duration} s per HTTP run, ${s.connections} connections`);
  const results: Record<string, unknown> = { at: new Date().toISOString(), machine: m, settings: { ...s, only: [...s.only] } };
  const rows: Row[] = [];
  /** Lines printed under the table (details that do not fit its columns). */
  const notes: string[] = [];

  if (s.only.has("http")) {
    log("HTTP operations (autocannon):");
    const phones = new PhoneSource();
    phones.prefill(Math.min(200_000, Math.ceil((s.duration + s.warmup) * 3000)));
    const http: HttpResults = await runHttpBenchmarks(s, phones, log);
    results.http = http;
    rows.push(httpRow("Apollo baseline: trivial mutation", http.baseline, 1));
    rows.push(httpRow("startVerification (full risk pipeline)", http.startVerification, http.startVerification.vsBaseline));
    rows.push(httpRow("checkVerification (full risk pipeline)", http.checkVerification, http.checkVerification.vsBaseline));
    rows.push(httpRow("REST start: POST /v2/…/Verifications (same pipeline)", http.restStart, http.restStart.vsBaseline));
    rows.push(httpRow("REST check: POST /v2/…/VerificationCheck (same pipeline)", http.restCheck, http.restCheck.vsBaseline));
    if (http.postgres) {
      const on = process.env.BENCH_REDIS_URL ? "PostgreSQL + Redis" : "PostgreSQL";
      rows.push(httpRow(`startVerification on ${on}`, http.postgres.startVerification, http.postgres.startVerification.vsBaseline));
      rows.push(httpRow(`checkVerification on ${on}`, http.postgres.checkVerification, http.postgres.checkVerification.vsBaseline));
    }
    const cpu = (r: HttpOpResult) => `${r.cpuMsPerRequest.toFixed(2)} ms`;
    notes.push(
      `REST / GraphQL for the same work: throughput start ${fmt.ratio(http.restStart.vsGraphql)}, check ${fmt.ratio(http.restCheck.vsGraphql)} (above 1: REST is faster); ` +
        `server CPU per request start ${cpu(http.restStart)} vs ${cpu(http.startVerification)}, check ${cpu(http.restCheck)} vs ${cpu(http.checkVerification)}.`,
    );
  }

  if (s.only.has("micro")) {
    log("Micro-benchmarks (in-process, temp SQLite):");
    const micro = await runMicro(s, log);
    results.micro = micro;
    rows.push(microRow("Risk pipeline alone, START", micro.pipelineStart));
    rows.push(microRow("Risk pipeline alone, CHECK", micro.pipelineCheck));
    rows.push(microRow("Limiter decision (limits stage: IP + number), its read included", micro.limitsStage));
    rows.push(microRow("Limiter decision from the request's read (IP + number)", micro.limitsDecision));
    rows.push(microRow("Limits taken: the commit's bounded upsert (IP + number), own transaction", micro.limitsTake));
    const stages = (ts: StageTiming[]) => ts.map((t) => `${t.stage} ${fmt.us(t.meanUs)}`).join(" · ");
    notes.push(`Risk pipeline by stage, mean µs per decision:\n  START: ${stages(micro.stagesStart)}\n  CHECK: ${stages(micro.stagesCheck)}`);
  }

  if (s.only.has("statements")) {
    log("SQL statements and commits per request (counted, bench/lib/count-statements.ts):");
    const st = await runStatementCounts(20, process.env.BENCH_PG_URL ?? null, log);
    results.statements = st;
    const line = (db: string, per: Record<string, { statements: number; commits: number }> | null) =>
      per ? `  ${db}: ` + Object.entries(per).map(([k, v]) => `${k} ${fmt1(v.statements)} statements + ${fmt1(v.commits)} commits`).join(" · ") : `  ${db}: not run (set BENCH_PG_URL)`;
    notes.push(`SQL statements and commits per request (mean of ${st.requests} each, request path only; the worker's per job):\n${line("SQLite", st.sqlite)}\n${line("PostgreSQL", st.postgres)}`);
  }

  if (s.only.has("query")) {
    log("Query layer candidates (one-row lookup by key):");
    const ql = await runQueryLayer(s.microIterations, process.env.BENCH_PG_URL ?? null, log);
    results.queryLayer = ql;
    for (const [db, timings] of [["SQLite", ql.sqlite], ["PostgreSQL", ql.postgres]] as const) {
      for (const [name, t] of Object.entries(timings ?? {})) rows.push(microRow(`Query layer, ${db}: ${name}`, t));
    }
  }

  if (s.only.has("admin")) {
    log(`Admin queries over ${s.rows.toLocaleString("en-US")} attempt rows:`);
    const admin = await runAdmin(s, log);
    results.admin = admin;
    for (const q of admin.queries) {
      rows.push({
        benchmark: `${q.name} [${admin.rows.toLocaleString("en-US")} rows]`,
        throughput: fmt.rate(1000 / q.meanMs, "queries/s"),
        vsBaseline: fmt.none,
        p50: fmt.ms(q.p50Ms),
        p99: fmt.ms(q.maxMs) + ` (max of ${q.reps})`,
        errors: "0 %",
        peakRss: fmt.mib(admin.peakRssBytes),
      });
    }
    notes.push(`Seeding ${admin.rows.toLocaleString("en-US")} decision rows took ${(admin.seedMs / 1000).toFixed(1)} s (${fmt.rate(admin.seedRowsPerSecond, "rows/s")}).`);
  }

  if (s.only.has("fanout")) {
    log(`Subscription fan-out to ${s.subscribers} graphql-ws subscribers:`);
    const fan = await runFanout(s, log);
    results.fanout = fan;
    const p50s = fan.rounds.map((r) => r.p50Ms).sort((a, b) => a - b);
    rows.push({
      benchmark: `Fan-out: status change → last of ${fan.subscribers} subscribers (median of ${fan.rounds.length})`,
      throughput: fmt.rate(fan.deliveriesPerSecond, "deliveries/s"),
      vsBaseline: fmt.none,
      p50: fmt.ms(fan.lastMsMedian),
      p99: fmt.ms(fan.lastMsMax) + " (worst)",
      errors: fmt.pct(1 - fan.rounds.reduce((a, r) => a + r.delivered, 0) / (fan.subscribers * fan.rounds.length)),
      peakRss: fmt.mib(fan.peakRssBytes),
    });
    notes.push(
      `Fan-out: first delivery after ${fmt.ms(Math.min(...fan.rounds.map((r) => r.firstMs)))}, median subscriber after ${fmt.ms(p50s[Math.floor(p50s.length / 2)]!)}; ` +
        `server RSS ${fmt.mib(fan.idleRssBytes)} before the subscribers connected, ${fmt.mib(fan.peakRssBytes)} with them.`,
    );
  }

  if (s.only.has("gate")) {
    log("Authenticate before any work (anonymous 56 kB requests):");
    const gate = await runAuthGate(s, log);
    results.gate = gate;
    const statuses = (st: Record<string, number>) => Object.entries(st).map(([c, n]) => `${c} ${n}`).join(", ");
    rows.push({
      benchmark: `Anonymous ${Math.round(gate.bodyBytes / 1024)} kB query: server CPU per request (${statuses(gate.anonymous.statuses)})`,
      throughput: fmt.none,
      vsBaseline: fmt.none,
      p50: fmt.ms(gate.anonymous.cpuMsPerRequest) + " CPU",
      p99: fmt.none,
      errors: fmt.none,
      peakRss: fmt.none,
    });
    rows.push({
      benchmark: `The same query with a CLIENT key: refused by its cost budget (${statuses(gate.client.statuses)})`,
      throughput: fmt.none,
      vsBaseline: fmt.none,
      p50: fmt.ms(gate.client.cpuMsPerRequest) + " CPU",
      p99: fmt.none,
      errors: fmt.none,
      peakRss: fmt.none,
    });
    rows.push({
      benchmark: `/healthz while ${gate.healthzUnderLoad.streams} anonymous streams run (${gate.healthzUnderLoad.anonymousRequests} refused meanwhile)`,
      throughput: fmt.none,
      vsBaseline: fmt.none,
      p50: fmt.ms(gate.healthzUnderLoad.p50Ms),
      p99: fmt.ms(gate.healthzUnderLoad.p99Ms),
      errors: fmt.none,
      peakRss: fmt.none,
    });
    notes.push(`/healthz alone: p50 ${fmt.ms(gate.healthzIdle.p50Ms)}, p99 ${fmt.ms(gate.healthzIdle.p99Ms)} over ${gate.healthzIdle.samples} requests; under load over ${gate.healthzUnderLoad.samples}.`);
  }

  let profileText = "";
  if (s.only.has("profile") && s.profileDuration > 0) {
    log("CPU profile of the server under start/check load:");
    const prof = await runProfile(s, new PhoneSource(11), log);
    results.profile = prof;
    profileText =
      `Server CPU profile under start/check load (${Math.round(prof.busyMs)} ms busy; ${prof.file}).\n` +
      `Top self time (a native call, e.g. SQLite's work, counts in the JS function that made it):\n` +
      prof.topFunctions.map((f) => `  ${f.selfPct.toFixed(1).padStart(5)} %  ${f.fn}`).join("\n") +
      "\nBy package: " +
      prof.byArea.slice(0, 10).map((a) => `${a.area} ${a.selfPct.toFixed(0)} %`).join(", ") +
      "\nverify-guard functions by inclusive time (synchronous part, SQLite included):\n" +
      prof.topOwnInclusive.map((f) => `  ${f.totalPct.toFixed(1).padStart(5)} %  ${f.fn}`).join("\n") +
      "\n";
  }

  process.stdout.write("\n" + renderTable(rows) + "\n\n");
  for (const note of notes) process.stdout.write(note + "\n\n");
  if (profileText) process.stdout.write(profileText + "\n");
  const loadAtEnd = machine().loadAverage1m;
  results.loadAverage1mAtEnd = loadAtEnd;
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node} (${m.platform}); ` +
      `1-minute load average ${m.loadAverage1m.toFixed(1)} at the start, ${loadAtEnd.toFixed(1)} at the end. Results: bench/results.json\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
