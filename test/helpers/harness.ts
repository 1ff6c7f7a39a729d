import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type App, type AppOptions } from "../../src/app.js";
import type { Clock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";

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
  opts: { clock?: Clock; env?: Record<string, string>; dbFile?: string; sweeper?: boolean } & Partial<Pick<AppOptions, "print">> = {},
): Promise<TestServer> {
  const dir = opts.dbFile ? null : mkdtempSync(join(tmpdir(), "vg-test-"));
  const dbFile = opts.dbFile ?? join(dir!, "verify.db");
  const config = loadConfig({
    DATABASE_URL: `file:${dbFile}`,
    ADMIN_API_KEY: ADMIN_KEY,
    CODE_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
    LOG_LEVEL: "silent",
    NODE_ENV: "test",
    ...opts.env,
  });
  const app = await createApp({ config, clock: opts.clock, log: createLogger("silent"), print: opts.print ?? (() => undefined), sweeper: opts.sweeper ?? false });
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
export function errorOf(r: GqlResult<unknown>): { code: string; errorCode: number; retryAfterSeconds?: number; message: string } {
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
