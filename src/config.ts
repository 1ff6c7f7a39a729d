import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";

/**
 * Every environment variable verify-guard reads, parsed once at start-up.
 * A bad value stops the process with a message that names the variable (see {@link loadConfig}).
 * `.env.example` documents each one; keep the two in step.
 */
const EnvSchema = z.object({
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
  /** Secret for the codes' keyed hash (at least 32 chars). Generated once into the data dir in development. */
  CODE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Admin API key. Generated on first start in development and printed once. */
  ADMIN_API_KEY: z.string().min(24, "must be at least 24 characters").optional(),
  /** Comma-separated CIDRs of proxies whose X-Forwarded-For is believed. @default "" */
  TRUST_PROXY: z.string().default(""),
  /** `development` generates missing secrets; `production` refuses to start without them. */
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** pino-style level names; only `silent` and `info`/`debug` matter here. @default "info" */
  LOG_LEVEL: z.enum(["silent", "error", "warn", "info", "debug"]).default("info"),
  /** Seconds between sweeps that expire pending verifications past their TTL. @default 5 */
  EXPIRY_SWEEP_SECONDS: z.coerce.number().positive().default(5),
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
  TWILIO_API_BASE_URL: z.string().url().optional(),
  /** Public base URL of this server, for Twilio status callbacks. */
  PUBLIC_URL: z.string().url().optional(),
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
  const parsed = EnvSchema.safeParse(env);
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
  let codeSecret = e.CODE_SECRET;
  if (!codeSecret) {
    if (e.NODE_ENV === "production") throw new ConfigError("Invalid configuration:\n  CODE_SECRET: required in production");
    codeSecret = readOrCreateSecret(join(dataDir, "code-secret"));
  }
  return { ...e, database, dataDir, codeSecret, trustProxy };
}

function readOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(path, secret + "\n", { mode: 0o600 });
  return secret;
}
