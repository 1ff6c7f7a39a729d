import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type App, type AppOptions } from "../../src/app.js";
import type { Clock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { harnessBackendEnv, queryPgSync } from "./backends.js";

export const ADMIN_KEY = "vg_admin_test_0123456789abcdefghijklmnopqrstuvwxyz";

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors?: { message: string; extensions: { code: string; errorCode: number; retryAfterSeconds?: number; [k: string]: unknown } }[];
}

export interface TestServer {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  app: App;
  dbFile: string;
  /** POSTs a GraphQL operation with the given key (admin by default; null = no header). */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, key?: string | null, headers?: Record<string, string>): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

/**
 * Starts the real server (Express + Apollo + graphql-ws) on a random port over a fresh SQLite file
 * in a temp directory. Everything a test touches is the production code path.
 */
export async function startServer(
  opts: { clock?: Clock; env?: Record<string, string>; dbFile?: string; sweeper?: boolean } & Partial<Pick<AppOptions, "print" | "log" | "deliveryWorker">> = {},
): Promise<TestServer> {
  const dir = opts.dbFile ? null : mkdtempSync(join(tmpdir(), "vg-test-"));
  const dbFile = opts.dbFile ?? join(dir!, "verify.db");
  const config = loadConfig({
    DATABASE_URL: `file:${dbFile}`,
    // VG_TEST_BACKEND=postgres[+redis]: the same tests on the scale-out backends (test/helpers/backends.ts).
    ...(await harnessBackendEnv(dbFile)),
    ADMIN_API_KEY: ADMIN_KEY,
    CODE_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
    LOG_LEVEL: "silent",
    NODE_ENV: "test",
    // No Demo service unless a test asks for the demo page: most tests count services or their data.
    DEMO_PAGE: "off",
    ...opts.env,
  });
  const app = await createApp({ config, clock: opts.clock, log: opts.log ?? createLogger("silent"), print: opts.print ?? (() => undefined), sweeper: opts.sweeper ?? false, deliveryWorker: opts.deliveryWorker });
  const url = await app.listen(0, "127.0.0.1");
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `${url.replace("http", "ws")}/graphql`,
    app,
    dbFile,
    async gql(query, variables, key = ADMIN_KEY, headers = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GqlResult;
      return { status: res.status, data: (body.data ?? null) as never, errors: body.errors };
    },
    async close() {
      await app.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Throws with the errors when a GraphQL call failed; returns its data. */
export function ok<T>(r: GqlResult<T>): T {
  if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
  return r.data;
}

/** The first error's extensions, for assertions on codes. */
export function errorOf(r: GqlResult<unknown>): { code: string; errorCode: number; retryAfterSeconds?: number; detail?: { field?: string }; message: string } {
  const e = r.errors?.[0];
  if (!e) throw new Error(`expected an error, got data ${JSON.stringify(r.data)}`);
  return { ...e.extensions, message: e.message };
}

export const CREATE_SERVICE = `mutation($input: CreateServiceInput!) { createService(input: $input) { id friendlyName codeLength ttlSeconds maxCheckAttempts maxSendAttempts customCodeEnabled } }`;
export const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { id serviceId to channel status valid sendCodeAttempts { id at channel } lookup { countryCode lineType } } }`;
export const CHECK = `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { id status valid } }`;
export const OUTBOX = `query($to: String) { outboxMessages(to: $to) { id to body channel verificationId } }`;

export async function createService(s: TestServer, input: Record<string, unknown> = {}): Promise<string> {
  const d = ok(await s.gql<{ createService: { id: string } }>(CREATE_SERVICE, { input: { friendlyName: "Acme", ...input } }));
  return d.createService.id;
}

/** Reads the latest code sent to `to` from the outbox (through GraphQL, as a developer would). */
export async function latestCode(s: TestServer, to: string): Promise<string> {
  await s.app.dispatcher.idle();
  const d = ok(await s.gql<{ outboxMessages: { body: string }[] }>(OUTBOX, { to }));
  const body = d.outboxMessages[0]?.body;
  const m = body && /(\d{4,10})/.exec(body);
  if (!m) throw new Error(`no code in outbox for ${to}`);
  return m[1]!;
}

export const CANCEL = `mutation($serviceId: ID!, $id: ID!) { cancelVerification(serviceId: $serviceId, id: $id) { id status valid } }`;
export const VERIFICATION = `query($serviceId: ID!, $id: ID!) { verification(serviceId: $serviceId, id: $id) { id serviceId to channel status valid sendCodeAttempts { id at channel } lookup { countryCode lineType } } }`;
export const CREATE_API_KEY = `mutation($role: Role!, $serviceId: ID, $name: String) { createApiKey(role: $role, serviceId: $serviceId, name: $name) { secret apiKey { id role serviceId } } }`;

/** The fields of `START` and `VERIFICATION`, as tests read them. */
export interface VerificationView {
  id: string;
  serviceId: string;
  to: string;
  channel: "SMS" | "CALL";
  status: string;
  valid: boolean;
  sendCodeAttempts: { id: string; at: string; channel: "SMS" | "CALL" }[];
  lookup: { countryCode: string | null; lineType: string | null };
}

/** Starts (or resends) a verification and returns it; throws on GraphQL errors. */
export async function startVerification(s: TestServer, input: Record<string, unknown>, key?: string | null): Promise<VerificationView> {
  return ok(await s.gql<{ startVerification: VerificationView }>(START, { input: { channel: "SMS", ...input } }, key)).startVerification;
}

/** Creates a CLIENT (publishable) key bound to one service; returns its id and bearer secret. */
export async function createClientKey(s: TestServer, serviceId: string): Promise<{ id: string; secret: string }> {
  const d = ok(await s.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_API_KEY, { role: "CLIENT", serviceId }));
  return { id: d.createApiKey.apiKey.id, secret: d.createApiKey.secret };
}

/** Every code the outbox holds for `to`, newest first (after pending deliveries settled). */
export async function codesSent(s: TestServer, to: string): Promise<string[]> {
  await s.app.dispatcher.idle();
  const d = ok(await s.gql<{ outboxMessages: { body: string }[] }>(OUTBOX, { to }));
  return d.outboxMessages.map((m) => /(\d{4,10})/.exec(m.body)?.[1] ?? "");
}

/**
 * Runs a read-only SQL query against the server's SQLite file through a second connection (what an
 * operator with the file would see), bypassing the app entirely.
 */
export function queryDb<T = Record<string, unknown>>(s: TestServer, query: string, ...params: unknown[]): T[] {
  const where = s.app.config.database;
  if (where.kind === "postgres") return queryPgSync<T>(where.url, query, params); // VG_TEST_BACKEND sweeps
  const db = new Database(s.dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}

const usedNumbers = new Set<string>();

/** A fresh, valid GB mobile number (+447400 and six random digits) not handed out before in this process. */
export function freshMobile(): string {
  for (;;) {
    const n = "+447400" + String(Math.floor(Math.random() * 1_000_000)).padStart(6, "0");
    if (!usedNumbers.has(n)) {
      usedNumbers.add(n);
      return n;
    }
  }
}

/**
 * Puts every risk stage of a service except `phone` in shadow mode: they still run and record what
 * they would block, but never block. Suites about the verification core use it so fraud heuristics
 * and rate limits (tested in their own suites) do not answer for the lifecycle's rules.
 */
export async function shadowRisk(s: TestServer, serviceId: string): Promise<void> {
  const shadowStages = s.app.services.lifecycle.riskStages.filter((name) => name !== "phone");
  await s.app.services.services.updateRiskSettings(serviceId, { shadowStages });
}

/** {@link createService}, then {@link shadowRisk}: a service whose only rules are the verification's own. */
export async function createCoreService(s: TestServer, input: Record<string, unknown> = {}): Promise<string> {
  const id = await createService(s, input);
  await shadowRisk(s, id);
  return id;
}

/**
 * A service whose fraud stages (safe list, geo, prefix guard, signals) only record: suites about the
 * limits use it, since hundreds of unchecked sends under one prefix would otherwise (rightly) trip
 * the pumping detector first.
 */
export async function limitsOnlyService(s: TestServer, input: Record<string, unknown> = {}): Promise<string> {
  const id = await createService(s, input);
  const shadowStages = s.app.services.lifecycle.riskStages.filter((n) => !["phone", "limits", "spend"].includes(n));
  await s.app.services.services.updateRiskSettings(id, { shadowStages });
  return id;
}
