import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchServerEnv, graphqlWire, restWire, setupService, VerificationLoad, SERVER_MAIN } from "./http-ops.js";
import { summarizeCpuProfile, type ProfileSummary } from "./lib/cpuprofile.js";
import type { PhoneSource } from "./lib/phones.js";
import { spawnServer } from "./lib/process.js";
import type { BenchSettings } from "./lib/settings.js";

/** Kept for a closer look in Chrome DevTools (Performance tab → Load profile); gitignored. */
const KEPT = fileURLToPath(new URL("../../bench/server.cpuprofile", import.meta.url));

/**
 * Profiles the server's hot path: the same server and start/check load as the measured runs, but
 * under `node --cpu-prof` (a separate pass, because sampling slows the server and would skew the
 * throughput numbers). Returns the top self-time functions and the time per package.
 */
export async function runProfile(s: BenchSettings, phones: PhoneSource, log: (line: string) => void): Promise<ProfileSummary & { file: string }> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-prof-"));
  const profDir = join(dir, "prof");
  const server = await spawnServer(SERVER_MAIN, benchServerEnv(dir), ["--cpu-prof", `--cpu-prof-dir=${profDir}`]);
  try {
    const graphqlUrl = `${server.url}/graphql`;
    const { serviceId, clientKey } = await setupService(graphqlUrl);
    // BENCH_PROFILE_API=rest profiles the same work through the Twilio-compatible REST API.
    const rest = process.env.BENCH_PROFILE_API === "rest";
    const load = new VerificationLoad(rest ? await restWire(server.url, serviceId, clientKey) : graphqlWire(graphqlUrl, serviceId, clientKey), phones);
    log(`  profiling ${rest ? "REST" : "GraphQL"} start + check (${s.profileDuration} s of starts, then their checks)`);
    const start = await load.start(s.connections, s.profileDuration);
    const check = await load.check(s.connections, load.checkable);
    log(`  profiled ${start.requests} starts (${Math.round(start.rps)}/s) and ${check.requests} checks (${Math.round(check.rps)}/s)`);
  } finally {
    await server.stop();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error("the server wrote no .cpuprofile");
  const summary = summarizeCpuProfile(join(profDir, file));
  copyFileSync(join(profDir, file), KEPT);
  rmSync(dir, { recursive: true, force: true });
  return { ...summary, file: "bench/server.cpuprofile" };
}
