import { AsyncLocalStorage } from "node:async_hooks";
import { pino, stdTimeFunctions, type Logger as Pino } from "pino";
import { maskPhone } from "./phone.js";

/**
 * Structured logs (JSON lines, pino). Every line written while a request is being served carries its
 * `requestId` (from {@link requestContext}), and so do the lines of the delivery job it created and of
 * the Twilio callbacks for that job: one id follows a code from HTTP to the handset.
 *
 * Phone numbers never reach a log line in clear: fields named like a number (`to`, `from`, `phone`, …,
 * at the top level or one level down) are masked by pino's redaction, and any `+` followed by 8 to 15
 * digits in a message or string field (an error text quoting the number) is masked as well.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = "silent" | "error" | "warn" | "info" | "debug";

/** What a log line learns from the request it is written for. */
export interface RequestScope {
  requestId: string;
}

/**
 * The request being served, across every await of it (HTTP and WebSocket operations, the delivery
 * worker running a job, a status callback). Set with `requestContext.run({ requestId }, fn)`.
 */
export const requestContext = new AsyncLocalStorage<RequestScope>();

/** The current request's id, or null outside a request. */
export function currentRequestId(): string | null {
  return requestContext.getStore()?.requestId ?? null;
}

/** A request id a client may pass in `X-Request-Id`: short and made of safe characters only. */
export function acceptableRequestId(v: unknown): v is string {
  return typeof v === "string" && /^[A-Za-z0-9._:-]{8,128}$/.test(v);
}

/** Field names that hold a phone number wherever they appear (top level or one object down). */
const NUMBER_FIELDS = ["to", "from", "phone", "phoneNumber", "e164", "number"];
const REDACT_PATHS = [...NUMBER_FIELDS, ...NUMBER_FIELDS.map((f) => `*.${f}`)];
/** E.164 numbers inside free text; the same mask as {@link maskPhone}. */
const E164_IN_TEXT = /\+\d{8,15}/g;

const maskText = (s: string): string => (s.includes("+") ? s.replace(E164_IN_TEXT, maskPhone) : s);

function scrub(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return fields;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== "string" || !v.includes("+")) continue;
    const masked = maskText(v);
    if (masked !== v) (out ??= { ...fields })[k] = masked;
  }
  return out ?? fields;
}

/**
 * A logger at `level` writing one JSON object per line (`time` ISO, `level` as a word, `msg`, fields)
 * to stdout, or to `write` (tests collect lines with it).
 */
export function createLogger(level: LogLevel = "info", write?: (line: string) => void): Logger {
  const base = pino(
    {
      level,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: "msg",
      redact: { paths: REDACT_PATHS, censor: (v) => (typeof v === "string" ? maskPhone(v) : v) },
      mixin: () => {
        const scope = requestContext.getStore();
        return scope ? { requestId: scope.requestId } : {};
      },
    },
    write ? { write: (line: string) => write(line.endsWith("\n") ? line.slice(0, -1) : line) } : undefined,
  );
  return wrap(base);
}

function wrap(p: Pino): Logger {
  const emit = (lvl: "debug" | "info" | "warn" | "error") => (msg: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(lvl)) return;
    const safe = scrub(fields);
    if (safe) p[lvl](safe, maskText(msg));
    else p[lvl](maskText(msg));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}
