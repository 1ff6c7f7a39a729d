import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, EnvSchema, loadConfig } from "../src/config.js";

/**
 * Configuration: one validated place (src/config.ts), documented in .env.example and docs/configuration.md, and a
 * bad value stops start-up with a message that names the variable, both through loadConfig and for
 * the real built server started as `npm start` starts it.
 */

const root = fileURLToPath(new URL("..", import.meta.url));
const schemaVariables = Object.keys(EnvSchema.shape).sort();

/** The `NAME=value` lines of .env.example (comments and blank lines skipped). */
function envExample(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(root, ".env.example"), "utf8").split("\n")) {
    const m = /^\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

describe("loadConfig", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vg-config-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = () => ({ DATABASE_URL: `file:${join(dir, "verify.db")}` });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["DATABASE_URL", "mysql://localhost/verify"],
    ["REDIS_URL", "localhost:6379"],
    ["CODE_SECRET", "too-short"],
    ["ADMIN_API_KEY", "short"],
    ["NODE_ENV", "staging"],
    ["LOG_LEVEL", "verbose"],
    ["EXPIRY_SWEEP_SECONDS", "-1"],
    ["TWILIO_ACCOUNT_SID", "AC123"],
    ["PUBLIC_URL", "not a url"],
    ["TRUST_PROXY", "10.0.0.0/8,not-a-cidr"],
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    let err: unknown;
    try {
      loadConfig({ ...base(), [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(new RegExp(`^\\s+${name}: `, "m"));
  });

  it("names every bad variable at once", () => {
    expect(() => loadConfig({ ...base(), PORT: "abc", LOG_LEVEL: "loud" })).toThrow(/PORT: [\s\S]*LOG_LEVEL: |LOG_LEVEL: [\s\S]*PORT: /);
  });

  it("treats an empty variable as unset: it takes its default", () => {
    const c = loadConfig({ ...base(), PORT: "", ADMIN_API_KEY: "", CODE_SECRET: " ", LOG_LEVEL: "" });
    expect(c).toMatchObject({ PORT: 4000, LOG_LEVEL: "info" });
    expect(c.ADMIN_API_KEY).toBeUndefined();
    expect(c.codeSecret).toMatch(/^[0-9a-f]{64}$/);
  });

  it("requires CODE_SECRET in production instead of generating one", () => {
    expect(() => loadConfig({ ...base(), NODE_ENV: "production" })).toThrow(/CODE_SECRET: required in production/);
  });

  it("requires a Twilio credential when TWILIO_ACCOUNT_SID is set", () => {
    expect(() => loadConfig({ ...base(), TWILIO_ACCOUNT_SID: "AC" + "0".repeat(32) })).toThrow(/TWILIO_AUTH_TOKEN/);
  });

  it("takes the documented defaults for an empty environment", () => {
    // CODE_SECRET is given so that nothing is generated into ./data by this test.
    const c = loadConfig({ CODE_SECRET: "s".repeat(32) });
    expect(c).toMatchObject({ PORT: 4000, HOST: "0.0.0.0", DATABASE_URL: "file:./data/verify.db", NODE_ENV: "development", LOG_LEVEL: "info", EXPIRY_SWEEP_SECONDS: 5, trustProxy: [] });
    expect(c.database).toEqual({ kind: "sqlite", file: "./data/verify.db" });
    expect(c.dataDir).toBe("./data");
  });

  it.each([
    [{}, true],
    [{ NODE_ENV: "production", CODE_SECRET: "s".repeat(32) }, false],
    [{ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x" }, false],
    [{ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x", DEMO_PAGE: "on" }, true],
    [{ DEMO_PAGE: "off" }, false],
  ])("serves the demo page by default only on the embedded store outside production: %j → %s", (env, on) => {
    expect(loadConfig({ ...base(), ...env }).demoPage).toBe(on);
  });

  it("generates a development CODE_SECRET once, keeps it private in the data dir, and reuses it", () => {
    const first = loadConfig(base()).codeSecret;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(loadConfig(base()).codeSecret).toBe(first);
    expect(statSync(join(dir, "code-secret")).mode & 0o777).toBe(0o600);
  });
});

describe(".env.example and docs/configuration.md", () => {
  it("list every variable of the config schema, and nothing else", () => {
    expect(Object.keys(envExample()).sort()).toEqual(schemaVariables);
  });

  it("name every variable in the configuration table (docs/configuration.md)", () => {
    const doc = readFileSync(join(root, "docs", "configuration.md"), "utf8");
    const section = /## Variables\n([\s\S]*)$/.exec(doc)?.[1] ?? "";
    const missing = schemaVariables.filter((v) => !section.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it("is itself a valid configuration (copying it to .env starts the server)", () => {
    const dir = mkdtempSync(join(tmpdir(), "vg-env-example-"));
    try {
      const env = { ...envExample(), DATABASE_URL: `file:${join(dir, "verify.db")}` };
      expect(() => loadConfig(env)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the built server (node dist/src/main.js, as npm start runs it)", () => {
  let build: string;
  let data: string;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    // A private outDir under dist/ (git-ignored; the migrations are found relative to /dist/), so a
    // concurrent `npm run build` elsewhere is never disturbed. tsc's exit status is not the question
    // here (the type check is its own step); the emitted JavaScript is.
    // A fresh clone has no dist/ yet.
    mkdirSync(join(root, "dist"), { recursive: true });
    build = mkdtempSync(join(root, "dist", ".config-test-"));
    data = mkdtempSync(join(tmpdir(), "vg-main-"));
    await promisify(execFile)(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", build], { cwd: root }).catch(() => undefined);
    expect(statSync(join(build, "src", "main.js")).isFile()).toBe(true);
  }, 180_000);
  afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
    if (build) rmSync(build, { recursive: true, force: true });
    if (data) rmSync(data, { recursive: true, force: true });
  });

  /** Starts main.js with only the given variables (plus PATH), collecting its output. */
  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [join(build, "src", "main.js")], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    const out = { stdout: "", stderr: "" };
    child.stdout!.on("data", (b: Buffer) => (out.stdout += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (out.stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => (children.delete(child), resolve(code))));
    const listening = async (): Promise<string> => {
      for (let i = 0; i < 300; i++) {
        const m = /listening on (http:\/\/[^/\s]+)\/graphql/.exec(out.stdout);
        if (m) return m[1]!.replace("localhost", "127.0.0.1");
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`server did not start:\n${out.stdout}\n${out.stderr}`);
    };
    return { child, out, exited, listening };
  }

  it("exits non-zero on PORT=abc, naming PORT on stderr", async () => {
    const p = run({ PORT: "abc", DATABASE_URL: `file:${join(data, "bad.db")}` });
    const code = await p.exited;
    expect(code).not.toBe(0);
    expect(code).toBe(78); // EX_CONFIG
    expect(p.out.stderr).toMatch(/PORT: /);
    expect(p.out.stdout).not.toMatch(/listening/);
  }, 30_000);

  it("starts on a fresh data dir, prints the generated admin key once, answers /healthz, and stops on SIGTERM", async () => {
    const env = { PORT: "0", HOST: "127.0.0.1", DATABASE_URL: `file:${join(data, "verify.db")}`, LOG_LEVEL: "silent" };
    const first = run(env);
    const url = await first.listening();
    const key = /Generated an admin API key \(shown once, stored hashed\): (\S+)/.exec(first.out.stdout)?.[1];
    expect(key).toMatch(/^vg_admin_/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // The embedded default serves the demo page, for which the first start made the Demo service.
    expect(first.out.stdout).toContain(`demo sign-up page: ${url}/demo`);
    const services = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ query: "{ services { friendlyName requireConsent } }" }) });
    expect(await services.json()).toEqual({ data: { services: [{ friendlyName: "Demo", requireConsent: true }] } });
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    // Second start on the same data: the key is not shown again, and the first one still works.
    const second = run(env);
    const url2 = await second.listening();
    expect(second.out.stdout).not.toMatch(/Generated an admin API key/);
    const again = await fetch(`${url2}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ query: "{ services { friendlyName } }" }) });
    expect(await again.json()).toEqual({ data: { services: [{ friendlyName: "Demo" }] } }); // not a second one
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 60_000);

  it("says in one line, without a stack trace, that the port is taken when it is", async () => {
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const p = run({ PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: `file:${join(data, "busy.db")}`, LOG_LEVEL: "silent", DEMO_PAGE: "off" });
      expect(await p.exited).toBe(1);
      expect(p.out.stderr).toBe(`verify-guard: port ${port} is already in use on 127.0.0.1: stop what is using it, or start with another PORT\n`);
      expect(p.out.stdout).not.toMatch(/listening|\n\s+at /);
    } finally {
      taken.close();
    }
  }, 30_000);
});
