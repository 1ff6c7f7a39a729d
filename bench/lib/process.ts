import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

/** A server running in its own process, so the load generator never shares its event loop. */
export interface ServerProcess {
  /** Base URL, e.g. http://127.0.0.1:41234 (GraphQL at `${url}/graphql`). */
  url: string;
  pid: number;
  /**
   * Starts a fresh peak-RSS window: writes 5 to /proc/<pid>/clear_refs, which resets VmHWM (Linux ≥ 4.0).
   * Where that is refused, the sampler's own maximum (VmRSS every 50 ms) is reset instead.
   */
  resetPeakRss(): void;
  /** Peak resident set size in bytes since the last reset (max of VmHWM and the sampled VmRSS). */
  peakRss(): number;
  /** SIGTERM, then waits for the exit (the server drains; `--cpu-prof` writes its profile on exit). */
  stop(): Promise<void>;
}

/** Reads a `Vm…: N kB` line of /proc/<pid>/status in bytes; 0 when unavailable (not Linux, gone). */
export function procStatusBytes(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat (fields
 * 14 and 15, in clock ticks of 10 ms on Linux); 0 when unavailable.
 */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * Spawns `node [nodeArgs] script` with `env` and resolves once it prints a line matching
 * `listening on (http://host:port)`. Its stderr is passed through so a crash is visible.
 */
export async function spawnServer(script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, script], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (!pid) throw new Error(`could not spawn ${script}`);
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 30 s:\n${stderr}`)), 30_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/[^\s/]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening:\n${stderr}`));
    });
  });
  child.stdout!.resume(); // keep draining (a full pipe would block the server)

  let sampledPeak = 0;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, procStatusBytes(pid, "VmRSS"));
  }, 50);
  sampler.unref();
  let hwmResettable = true;

  return {
    url,
    pid,
    resetPeakRss() {
      sampledPeak = procStatusBytes(pid, "VmRSS");
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {
        hwmResettable = false;
      }
    },
    peakRss() {
      const now = procStatusBytes(pid, "VmRSS");
      sampledPeak = Math.max(sampledPeak, now);
      return hwmResettable ? Math.max(sampledPeak, procStatusBytes(pid, "VmHWM")) : sampledPeak;
    },
    async stop() {
      clearInterval(sampler);
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const force = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(force);
    },
  };
}
