import type { TestProject } from "vitest/node";
import { deleteRunKeys, dropRunDatabases, probeBackends, redact, type BackendProbe, type BackendStatus } from "./backend-probe.js";

/**
 * vitest globalSetup: probes PostgreSQL and Redis once per run, hands the verdict to the test files
 * (`inject("backends")`), and says plainly, at the start and again at the end of the run, which
 * backend suites run and which were not run and why. The embedded (SQLite, in-process) suites never
 * depend on this.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const status = await probeBackends();
  project.provide("backends", status);
  const notice = describe(status);
  process.stdout.write(notice);
  return async () => {
    await Promise.all([dropRunDatabases(status), deleteRunKeys(status)]);
    process.stdout.write(notice);
  };
}

function describe(s: BackendStatus): string {
  const line = (name: string, p: BackendProbe, suites: string) => {
    if (p.reason) return `  NOT RUN  ${name} suites (${suites}): ${p.reason}; set ${name === "PostgreSQL" ? "TEST_DATABASE_URL" : "TEST_REDIS_URL"} or start it (.ci/run does both)`;
    return `  run      ${name} suites (${suites}) against ${redact(p.url)}${p.required ? "" : " (found at the default address)"}`;
  };
  return [
    "",
    "verify-guard backend suites:",
    line("PostgreSQL", s.pg, "store contracts, migrations, readiness and security on PostgreSQL; two-instance and shutdown processes"),
    line("Redis", s.redis, "limiter and window-counter contracts on Redis, Redis events, two-instance and shutdown processes"),
    "",
  ].join("\n") + "\n";
}
