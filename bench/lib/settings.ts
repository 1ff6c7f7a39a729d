import { availableParallelism, cpus, loadavg, totalmem } from "node:os";

/** Knobs, all from the environment so a quick run and the README run use the same code. */
export interface BenchSettings {
  /** Seconds per HTTP load run (BENCH_DURATION, default 10). */
  duration: number;
  /** Seconds of warm-up before each HTTP run (BENCH_WARMUP, default 2). */
  warmup: number;
  /** Concurrent HTTP connections (BENCH_CONNECTIONS, default 10). */
  connections: number;
  /** Decisions per micro-benchmark (BENCH_MICRO_ITERATIONS, default 5000). */
  microIterations: number;
  /** Attempt rows seeded for the admin queries (BENCH_ROWS, default 1000000). */
  rows: number;
  /** Repetitions of each admin query (BENCH_QUERY_REPS, default 5). */
  queryReps: number;
  /** graphql-ws subscribers (BENCH_SUBSCRIBERS, default 1000). */
  subscribers: number;
  /** Status changes timed in the fan-out (BENCH_FANOUT_ROUNDS, default 5). */
  fanoutRounds: number;
  /** Seconds of each load while the profiler runs (BENCH_PROFILE_DURATION, default 5; 0 = skip). */
  profileDuration: number;
  /** Sections to run (BENCH_ONLY=http,statements,micro,query,admin,gate,fanout,profile; default all). */
  only: Set<string>;
}

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export function readSettings(): BenchSettings {
  const only = (process.env.BENCH_ONLY ?? "http,statements,micro,query,admin,gate,fanout,profile").split(",").map((s) => s.trim()).filter(Boolean);
  return {
    duration: num("BENCH_DURATION", 10),
    warmup: num("BENCH_WARMUP", 2),
    connections: num("BENCH_CONNECTIONS", 10),
    microIterations: num("BENCH_MICRO_ITERATIONS", 5000),
    rows: num("BENCH_ROWS", 1_000_000),
    queryReps: num("BENCH_QUERY_REPS", 5),
    subscribers: num("BENCH_SUBSCRIBERS", 1000),
    fanoutRounds: num("BENCH_FANOUT_ROUNDS", 5),
    profileDuration: num("BENCH_PROFILE_DURATION", 5),
    only: new Set(only),
  };
}

/** The machine, as the README table reports it. */
export function machine(): { nproc: number; cpu: string; node: string; platform: string; memoryGiB: number; loadAverage1m: number } {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    // Other work on the machine skews every absolute number (not the ratios as much): say how busy it was.
    loadAverage1m: loadavg()[0]!,
  };
}
