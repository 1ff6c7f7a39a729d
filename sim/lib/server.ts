import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type App } from "../../src/app.js";
import { ManualClock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";

const ADMIN_KEY = "vg_admin_simulation_0123456789abcdefghijkl";

export interface GqlError {
  message: string;
  extensions: { code: string; errorCode?: number; retryAfterSeconds?: number };
}

export interface GqlReply<T> {
  data: T | null;
  errors?: GqlError[];
}

/**
 * The real server for one scenario: `createApp` on a fresh SQLite file with a {@link ManualClock}
 * the simulation moves, listening on a random local port. The simulation talks to it only over HTTP,
 * like any client; the clock is the one thing it controls from inside (production builds the same
 * app with the system clock: there is no test-only endpoint). The server believes X-Forwarded-For
 * from 127.0.0.1, so each simulated client has its own address.
 */
export class SimServer {
  private constructor(
    readonly app: App,
    readonly url: string,
    readonly clock: ManualClock,
    /** Warning and error lines the server logged (e.g. auto-blocks, a spent budget share). */
    readonly logLines: string[],
    private readonly dir: string,
  ) {}

  static async start(startAt: number, env: Record<string, string> = {}): Promise<SimServer> {
    const dir = mkdtempSync(join(tmpdir(), "vg-sim-"));
    const clock = new ManualClock(startAt);
    const lines: string[] = [];
    const config = loadConfig({
      DATABASE_URL: `file:${join(dir, "verify.db")}`,
      ADMIN_API_KEY: ADMIN_KEY,
      CODE_SECRET: "simulation-code-secret-0123456789abcdef0123",
      TRUST_PROXY: "127.0.0.1/32",
      LOG_LEVEL: "warn",
      NODE_ENV: "test",
      ...env,
    });
    const app = await createApp({ config, clock, log: createLogger("warn", (l) => lines.push(l)), print: () => undefined, sweeper: false });
    const url = await app.listen(0, "127.0.0.1");
    return new SimServer(app, url, clock, lines, dir);
  }

  /** One GraphQL operation over HTTP; `key` defaults to the admin key, `ip` goes in X-Forwarded-For. */
  async gql<T>(query: string, variables: Record<string, unknown>, opts: { key?: string; ip?: string } = {}): Promise<GqlReply<T>> {
    const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${opts.key ?? ADMIN_KEY}` };
    if (opts.ip) headers["x-forwarded-for"] = opts.ip;
    const res = await fetch(`${this.url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as GqlReply<T>;
    return { data: body.data ?? null, errors: body.errors };
  }

  /** Like {@link gql}, but throws on any error (the simulation's own setup calls). */
  async admin<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.gql<T>(query, variables);
    if (r.errors?.length || !r.data) throw new Error(`simulation setup call failed: ${JSON.stringify(r.errors)}`);
    return r.data;
  }

  async close(): Promise<void> {
    await this.app.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
