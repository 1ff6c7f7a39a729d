import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";

/**
 * Every environment variable verify-guard reads, parsed once at start-up.
 * A bad value stops the process with a message that names the variable (see {@link loadConfig}).
 * `.env.example` and the configuration table (docs/configuration.md) document each one (test/config.test.ts fails
 * when they drift). Exported so that test can read the variable names.
 */
/** A limit as `MAX/SECONDS` (e.g. `20/3600`), or `off`: parsed to { max, windowMs } or null. */
function limitVar(def: string) {
  return z
    .string()
    .trim()
    .regex(/^(off|[1-9]\d{0,6}\/[1-9]\d{0,6})$/, "must be MAX/SECONDS (e.g. 20/3600) or off")
    .default(def)
    .transform((v) => {
      if (v === "off") return null;
      const [max, seconds] = v.split("/").map(Number) as [number, number];
      return { max, windowMs: seconds * 1000 };
    });
}

/** A duration as a number and a unit, `30d`, `24h`, `15m` or `90s`: parsed to milliseconds. */
function durationVar(def: string) {
  const units = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  return z
    .string()
    .trim()
    .regex(/^[1-9]\d{0,5}(s|m|h|d)$/, "must be a number and a unit: 30d, 24h, 15m or 90s")
    .default(def)
    .transform((v) => Number(v.slice(0, -1)) * units[v.slice(-1) as keyof typeof units]);
}

/** An origin as browsers send it: scheme, host, optional port, nothing else. */
const ORIGIN_RE = /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

export const EnvSchema = z.object({
  /** HTTP port for GraphQL, GraphiQL, health and webhooks. @default 4000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Interface to bind. @default "0.0.0.0" */
  HOST: z.string().min(1).default("0.0.0.0"),
  /** `file:PATH` (SQLite, the embedded default) or `postgres://…`. @default "file:./data/verify.db" */
  DATABASE_URL: z
    .string()
    .regex(/^(file:.+|postgres(ql)?:\/\/.+)$/, "must be file:PATH or postgres://…")
    .default("file:./data/verify.db"),
  /** `redis://…` to keep limits, detector counters and events in Redis; empty = in-process. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, "must be redis://…")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** Prefix of every Redis key and pub/sub channel, so deployments can share one Redis. @default "vg:" */
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 : _ . -").default("vg:"),
  /** Secret for the codes' keyed hash (at least 32 chars). Generated once into the data dir in development. */
  CODE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Admin API key. Generated on first start in development and printed once. */
  ADMIN_API_KEY: z.string().min(24, "must be at least 24 characters").optional(),
  /** Comma-separated CIDRs of proxies whose X-Forwarded-For is believed. @default "" */
  TRUST_PROXY: z.string().default(""),
  /** Deepest field nesting one GraphQL operation may have (QUERY_TOO_COMPLEX beyond). @default 10 */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(3).max(100).default(10),
  /** Highest cost one GraphQL operation of an ADMIN key may have (src/graphql/cost.ts says how cost adds up). @default 5000 */
  GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().min(100).max(1_000_000).default(5000),
  /** Highest cost one GraphQL operation of a CLIENT (publishable) key may have: a few starts, checks and reads (10 each). @default 40 */
  GRAPHQL_CLIENT_MAX_COMPLEXITY: z.coerce.number().int().min(10).max(1_000_000).default(40),
  /** Who may introspect the schema (GraphiQL's schema fetch): `key` (any API key) or `public` (anyone). @default "key" */
  INTROSPECTION: z.enum(["key", "public"]).default("key"),
  /** Subscriptions one API key may hold at once, across its sockets (and every instance when REDIS_URL is set). @default 100 */
  WS_MAX_SUBSCRIPTIONS_PER_KEY: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** Subscriptions one WebSocket may hold at once. @default 20 */
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).max(10_000).default(20),
  /** WebSockets one API key may hold open at once. @default 100 */
  WS_MAX_SOCKETS_PER_KEY: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** WebSockets one client IP group (IPv6 per /64) may hold open at once. @default 50 */
  WS_MAX_SOCKETS_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(50),
  /** Starts per client IP (IPv6 per /64), CLIENT keys only: `MAX/SECONDS` or `off`. @default "20/3600" */
  LIMIT_STARTS_PER_IP: limitVar("20/3600"),
  /** Checks per client IP (IPv6 per /64), CLIENT keys only. @default "10/60" */
  LIMIT_CHECKS_PER_IP: limitVar("10/60"),
  /** Sends (starts and resends) per phone number per service, Twilio's 5 per 10 minutes. @default "5/600" */
  LIMIT_STARTS_PER_NUMBER: limitVar("5/600"),
  /** Wrong checks of a phone number per service from one client IP group, across verifications (a new code never resets it). @default "10/3600" */
  LIMIT_CHECKS_PER_NUMBER: limitVar("10/3600"),
  /** Wrong checks of a phone number per service from anywhere: the ceiling against guessers spread over many addresses. @default "100/86400" */
  LIMIT_FAILED_CHECKS_PER_NUMBER: limitVar("100/86400"),
  /** What the limits stage does when the limiter's Redis (REDIS_URL) fails: `closed` refuses (20503), `open` lets through. @default "closed" */
  LIMITER_FAILURE_MODE: z.enum(["closed", "open"]).default("closed"),
  /** Daily spend budget per service in US cents, unless the service sets its own. @default 5000 */
  SPEND_DAILY_BUDGET_CENTS: z.coerce.number().int().min(0).max(100_000_000).default(5000),
  /** Percent of the daily budget MONITOR, new and unconverted destinations may spend (the capped share). @default 20 */
  SPEND_CAPPED_SHARE_PERCENT: z.coerce.number().int().min(0).max(100).default(20),
  /** `development` generates missing secrets; `production` refuses to start without them. */
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** pino-style level names; only `silent` and `info`/`debug` matter here. @default "info" */
  LOG_LEVEL: z.enum(["silent", "error", "warn", "info", "debug"]).default("info"),
  /** Seconds between sweeps that expire pending verifications past their TTL. @default 5 */
  EXPIRY_SWEEP_SECONDS: z.coerce.number().positive().default(5),
  /**
   * This instance's own account SID (`AC` + 32 hex), the username of the Twilio-compatible REST API
   * (`/v2`). Generated on first start and stored in the database when unset.
   */
  VERIFY_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-f]{32}$/, "must be AC followed by 32 lowercase hex digits")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** Twilio account SID (`AC` + 32 hex). With no credentials, codes go to the local outbox. */
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, "must be AC followed by 32 hex digits")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** Twilio auth token (used for API auth unless an API key is given, and always for webhook signatures). */
  TWILIO_AUTH_TOKEN: z.string().optional(),
  /** Twilio API key SID (`SK…`) and secret, an alternative to the auth token for REST calls. */
  TWILIO_API_KEY: z.string().optional(),
  TWILIO_API_SECRET: z.string().optional(),
  /** Sender phone number in E.164 for SMS and calls. */
  TWILIO_FROM: z.string().optional(),
  /** Messaging Service SID (`MG…`), used for SMS instead of TWILIO_FROM when set. */
  TWILIO_MESSAGING_SERVICE_SID: z.string().optional(),
  /** Base URL replacing Twilio's own hosts (staging against a stand-in). */
  TWILIO_API_BASE_URL: z
    .string()
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** Public base URL of this server, for Twilio status callbacks. */
  PUBLIC_URL: z
    .string()
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** Timeout of one Twilio API request (ms); a timed-out send is retried with the same idempotency token. @default 10000 */
  TWILIO_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Tries per send, the first included, before a delivery fails for good (429, 5xx, timeouts retry). @default 6 */
  DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** Bearer token a Prometheus scrape of `/metrics` must send; empty = none (then `/metrics` is open outside production). */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Serve `/metrics` on this port only (not on PORT); empty = on the main port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Interface of the METRICS_PORT listener. @default "127.0.0.1" */
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /** Countries (ISO alpha-2, comma-separated) that keep their own metric label; others are `other`. Empty = a built-in top list. */
  METRICS_COUNTRIES: z
    .string()
    .regex(/^[A-Za-z]{2}(\s*,\s*[A-Za-z]{2})*$/, "must be ISO country codes separated by commas")
    .optional()
    .transform((v) => (v ? v.split(",").map((c) => c.trim().toUpperCase()) : undefined)),
  /** Lifetime of an approval token (the JWT an approving check returns), seconds. @default 300 */
  APPROVAL_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  /** Approval tokens' signing keys rotate this often (hours); the previous key stays published. @default 24 */
  APPROVAL_KEY_ROTATION_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(24),
  /** The `iss` of approval tokens. @default PUBLIC_URL, else "verify-guard" */
  APPROVAL_TOKEN_ISSUER: z.string().min(1).optional(),
  /**
   * Origins (scheme://host[:port]) whose pages may call the API from a browser, comma-separated; `*` for
   * any. Empty = none: only pages this server serves (same origin). @default ""
   */
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every((o) => o === "*" || ORIGIN_RE.test(o)), "must be comma-separated origins such as https://app.example.com (scheme, host, optional port; no path), or *"),
  /** `on` serves the demo sign-up page at /demo. @default on with the embedded SQLite store outside production, else off */
  DEMO_PAGE: z.enum(["on", "off"]).optional(),
  /** Days consent records are kept before they are deleted (evidence of opt-in; TCPA claims run 4 years). @default 1461 */
  CONSENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(1461),
  /**
   * How long verifications and risk decisions keep the phone number (decisions also the IP and tags);
   * then it is replaced by a keyed hash (the country stays, so statistics keep working). A service may
   * set its own (setServiceRetention). @default "30d"
   */
  RETENTION_NUMBERS: durationVar("30d"),
  /** How long raw risk decisions, and the verifications and send attempts they refer to, are kept. @default "90d" */
  RETENTION_RAW: durationVar("90d"),
  /** How long the hourly and daily roll-ups (what fraudStats reads beyond the raw retention) are kept. @default "730d" */
  RETENTION_ROLLUPS: durationVar("730d"),
  /** How long finished delivery jobs and webhook deliveries are kept. @default "24h" */
  RETENTION_FINISHED_JOBS: durationVar("24h"),
  /** Seconds between purges (one instance purges at a time). @default 60 */
  PURGE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Rows one purge statement deletes or anonymizes at most (smaller: shorter write locks). @default 500 */
  PURGE_BATCH: z.coerce.number().int().min(10).max(100_000).default(500),
  /** Timeout of one webhook request (ms); a slower endpoint counts as failed and is retried. @default 5000 */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Tries per webhook event (backoff from 1 s to 1 h) before it is given up. @default 12 */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(12),
  /** Delivery alerts: the recent window compared with the 7-day baseline, minutes. @default 60 */
  ALERT_WINDOW_MINUTES: z.coerce.number().int().min(5).max(1440).default(60),
  /** Delivery alerts: sends the window (and the baseline) need before a rate is judged. @default 20 */
  ALERT_MIN_SENDS: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /** Delivery alerts: raised when a rate falls under this fraction of its baseline. @default 0.5 */
  ALERT_DROP_RATIO: z.coerce.number().gt(0).lt(1).default(0.5),
  /** Delivery alerts: seconds between evaluations. @default 60 */
  ALERT_EVALUATE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
});


export type Env = z.infer<typeof EnvSchema>;

/** The typed, validated configuration the composition root builds from. */
export interface Config extends Env {
  /** Resolved database: kind and location. */
  database: { kind: "sqlite"; file: string } | { kind: "postgres"; url: string };
  /** Directory that holds the SQLite file and generated development secrets. */
  dataDir: string;
  /** Always set after {@link loadConfig}: from the env or generated into the data dir. */
  codeSecret: string;
  /** Parsed TRUST_PROXY. */
  trustProxy: string[];
  /** DEMO_PAGE resolved: its default depends on the store and NODE_ENV. */
  demoPage: boolean;
}

/** Thrown when the environment is invalid; its message names every bad variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses `env` into a {@link Config}. In development a missing CODE_SECRET is generated once and kept
 * in `<dataDir>/code-secret` so codes stay checkable across restarts; in production it is required.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means unset (`CODE_SECRET=` as .env.example ships it, or docker's env files),
  // so it takes its default instead of failing a length or format rule.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const parsed = EnvSchema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const database = e.DATABASE_URL.startsWith("file:")
    ? ({ kind: "sqlite", file: e.DATABASE_URL.slice("file:".length) } as const)
    : ({ kind: "postgres", url: e.DATABASE_URL } as const);
  const dataDir = database.kind === "sqlite" && database.file !== ":memory:" ? dirname(database.file) : "./data";
  const trustProxy = e.TRUST_PROXY.split(",").map((s) => s.trim()).filter(Boolean);
  for (const cidr of trustProxy) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(cidr)) throw new ConfigError(`Invalid configuration:\n  TRUST_PROXY: "${cidr}" is not a CIDR`);
  }
  if (e.TWILIO_ACCOUNT_SID && !e.TWILIO_AUTH_TOKEN && !(e.TWILIO_API_KEY && e.TWILIO_API_SECRET)) {
    throw new ConfigError("Invalid configuration:\n  TWILIO_AUTH_TOKEN: required when TWILIO_ACCOUNT_SID is set");
  }
  if (e.TWILIO_ACCOUNT_SID && !e.TWILIO_FROM && !e.TWILIO_MESSAGING_SERVICE_SID) {
    throw new ConfigError("Invalid configuration:\n  TWILIO_FROM: required when TWILIO_ACCOUNT_SID is set (or TWILIO_MESSAGING_SERVICE_SID for SMS only)");
  }
  let codeSecret = e.CODE_SECRET;
  if (!codeSecret) {
    if (e.NODE_ENV === "production") throw new ConfigError("Invalid configuration:\n  CODE_SECRET: required in production");
    codeSecret = readOrCreateSecret(join(dataDir, "code-secret"));
  }
  // The demo page belongs to a try-it-out install: the embedded store, not production.
  const demoPage = e.DEMO_PAGE ? e.DEMO_PAGE === "on" : database.kind === "sqlite" && e.NODE_ENV !== "production";
  return { ...e, database, dataDir, codeSecret, trustProxy, demoPage };
}

function readOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(path, secret + "\n", { mode: 0o600 });
  return secret;
}
