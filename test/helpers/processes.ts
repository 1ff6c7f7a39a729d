import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ADMIN_KEY, type GqlResult } from "./harness.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_LOCK = "/tmp/vg-build.lock";

/**
 * Compiles the server (`tsc -p tsconfig.build.json`, as `npm start` does) when dist/ is missing or
 * older than any source or migration, under a lock so test files that spawn servers build once.
 * A type error fails the build and so the test: what is spawned is exactly what would ship.
 */
export function ensureBuilt(): void {
  const script = [
    "cd \"$0\"",
    'if [ ! -f dist/src/main.js ] || [ -n "$(find src drizzle tsconfig.json tsconfig.build.json -newer dist/src/main.js -print -quit)" ]; then',
    "  npx tsc -p tsconfig.build.json",
    "fi",
  ].join("\n");
  const r = spawnSync("flock", [BUILD_LOCK, "sh", "-c", script, ROOT], { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`build failed (tsc -p tsconfig.build.json):\n${r.stdout}${r.stderr}`);
}

/** A real verify-guard process (`node dist/src/main.js`) on a loopback port. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** POSTs a GraphQL operation (admin key by default). */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, key?: string): Promise<GqlResult<T>>;
  /** Resolves with the exit code once it exited. */
  exited: Promise<number | null>;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<number | null>;
}

export const PROCESS_SECRET = "process-secret-0123456789abcdef0123456789abcdef";

/**
 * Spawns `node dist/src/main.js` with `env` on 127.0.0.1, port 0, and resolves once it prints the URL
 * it listens on. It runs under `timeout`, so a process a crashed test run leaves behind still stops
 * by itself (SIGTERM after 5 minutes; `timeout` passes our own SIGTERM on to it).
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn("timeout", ["--kill-after=5", "300", process.execPath, "dist/src/main.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      ADMIN_API_KEY: ADMIN_KEY,
      CODE_SECRET: PROCESS_SECRET,
      EXPIRY_SWEEP_SECONDS: "3600",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/[^\s/]+)\/graphql/.exec(out);
      if (m) {
        child.stdout!.off("data", onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    exited,
    async gql(query, variables, key = ADMIN_KEY) {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GqlResult;
      return { status: res.status, data: (body.data ?? null) as never, errors: body.errors };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
