import { performance } from "node:perf_hooks";
import { DAY, MINUTE, Sim, type Tally } from "./lib/sim.js";
import { SCENARIOS, type Scenario } from "./scenarios.js";

/**
 * `npm run simulate`: runs each scripted scenario against a real server over HTTP with a simulated
 * clock (days of traffic in seconds) and prints one table: sends allowed and blocked, legitimate users
 * refused, money spent and saved. Then it checks issue 14's targets and exits 1 if one is missed.
 *
 *   SIM_ONLY="slow drip,IP hammering"   run some scenarios only (names as in the table)
 *   SIM_SEED=7                          another random draw of the same scenarios
 */

/** Midnight UTC on a Monday: day boundaries (and the budget's UTC day) fall where the scripts expect. */
const T0 = Date.UTC(2026, 2, 2);
/** The targets: share of pumped sends blocked overall, pumped sends per attack, legitimate users refused. */
const TARGETS = { blockedShare: 0.99, maxPumpedPerAttack: 50, legitRefused: 0 };

interface Result {
  scenario: Scenario;
  tally: Tally;
  autoBlocks: string[];
  logLines: number;
  wallSeconds: number;
  requests: number;
}

const QUERY_BLOCKS = `query($s: ID) { blockedPrefixes(serviceId: $s) { prefix source reason } }`;

async function runScenario(scenario: Scenario, seed: number): Promise<Result> {
  const wall = performance.now();
  const sim = await Sim.open(T0, seed);
  try {
    scenario.script(sim, T0);
    const requests = sim.agenda.size;
    // What the detector blocked, as an admin sees it: the block list, read every simulated 10 minutes.
    const autoBlocks = new Map<string, string>();
    for (let t = T0; t < T0 + scenario.days * DAY; t += 10 * MINUTE) {
      sim.agenda.add(t, async () => {
        const { blockedPrefixes } = await sim.server.admin<{ blockedPrefixes: { prefix: string; source: string; reason: string }[] }>(QUERY_BLOCKS, { s: sim.serviceId });
        for (const b of blockedPrefixes) if (b.source === "AUTO" && !autoBlocks.has(b.prefix)) autoBlocks.set(b.prefix, `${b.prefix} at ${new Date(sim.server.clock.now()).toISOString().slice(5, 16)}: ${b.reason}`);
      });
    }
    await sim.run(T0 + scenario.days * DAY);
    await sim.server.app.dispatcher.idle();
    return { scenario, tally: sim.tally, autoBlocks: [...autoBlocks.values()], logLines: sim.server.logLines.length, wallSeconds: (performance.now() - wall) / 1000, requests };
  } finally {
    await sim.close();
  }
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const codes = (m: Map<string, number>) => [...m].map(([c, n]) => `${c} ${n}`).join(", ") || "–";

function table(results: Result[]): string {
  const head = ["Scenario", "Days", "Pumped attempts", "Pumped sent", "Pumped blocked", "Legit users", "Legit refused", "Spent (legit + pumped)", "Saved"];
  const rows = results.map(({ scenario: s, tally: t }) => [
    s.name,
    String(s.days),
    s.attack ? t.pumpedAttempts.toLocaleString("en-US") : "–",
    s.attack ? String(t.pumpedSent) : "–",
    s.attack ? `${((100 * (t.pumpedAttempts - t.pumpedSent)) / t.pumpedAttempts).toFixed(1)} %` : "–",
    t.legitUsers.toLocaleString("en-US"),
    t.legitRefused ? `${t.legitRefused} (${codes(t.legitRefusedBy)})` : "0",
    `${usd(t.legitUsd + t.pumpedUsd)} (${usd(t.legitUsd)} + ${usd(t.pumpedUsd)})`,
    s.attack ? usd(t.savedUsd) : "–",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "| " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
  const rule = "| " + widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ") + " |";
  return [line(head), rule, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const only = process.env.SIM_ONLY?.split(",").map((s) => s.trim()).filter(Boolean);
  const seed = Number(process.env.SIM_SEED ?? 14);
  const chosen = only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  if (chosen.length === 0) throw new Error(`SIM_ONLY matched no scenario; names: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  const results: Result[] = [];
  for (const s of chosen) {
    process.stderr.write(`${s.name}: ${s.what}… `);
    const r = await runScenario(s, seed);
    process.stderr.write(`${r.requests.toLocaleString("en-US")} scripted actions, ${r.wallSeconds.toFixed(1)} s\n`);
    results.push(r);
  }
  console.log(table(results));
  console.log();
  for (const r of results) {
    const blocks = r.autoBlocks.length ? r.autoBlocks.slice(0, 6).map((b) => `\n    ${b}`).join("") + (r.autoBlocks.length > 6 ? `\n    … ${r.autoBlocks.length - 6} more` : "") : " none";
    console.log(`${r.scenario.name}: pumped refused by ${codes(r.tally.pumpedBlockedBy)}; legit sends ${r.tally.legitSends}, approved ${r.tally.legitApproved}; auto-blocks seen:${blocks}`);
  }

  const attacks = results.filter((r) => r.scenario.attack);
  const attempts = attacks.reduce((n, r) => n + r.tally.pumpedAttempts, 0);
  const sent = attacks.reduce((n, r) => n + r.tally.pumpedSent, 0);
  const misses: string[] = [];
  if (attempts && (attempts - sent) / attempts < TARGETS.blockedShare) misses.push(`pumped sends blocked overall ${(((attempts - sent) / attempts) * 100).toFixed(2)} % < ${TARGETS.blockedShare * 100} %`);
  for (const r of attacks) if (r.tally.pumpedSent > TARGETS.maxPumpedPerAttack) misses.push(`${r.scenario.name}: ${r.tally.pumpedSent} pumped sends > ${TARGETS.maxPumpedPerAttack}`);
  for (const r of results) if (r.tally.legitRefused > TARGETS.legitRefused) misses.push(`${r.scenario.name}: ${r.tally.legitRefused} legitimate users refused`);
  console.log();
  if (attempts) console.log(`Overall: ${attempts - sent} of ${attempts} pumped sends blocked (${(((attempts - sent) / attempts) * 100).toFixed(2)} %).`);
  console.log(misses.length ? `Targets missed:\n  ${misses.join("\n  ")}` : "Targets met: ≥ 99 % of pumped sends blocked, each attack cut off within 50 sends, no legitimate user refused.");
  process.exitCode = misses.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
