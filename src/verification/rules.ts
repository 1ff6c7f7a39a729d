import { isIP } from "node:net";
import type { Caller } from "../auth/keys.js";
import { AppError, invalidParameter } from "../errors.js";
import type { ServiceRow, VerificationRow } from "../store/types.js";
import { assertText, TEXT_LIMITS } from "../text-rules.js";
import { CUSTOM_CODE_RE } from "./codes.js";
import type { CheckInput, StartInput } from "./lifecycle.js";

/**
 * The lifecycle's input rules and the answers it gives for verifications it cannot act on. Kept apart
 * from the flow in lifecycle.ts so each reads on its own.
 */

/** Bounds on a start's tags (kept on its decision row). */
export const TAG_BOUNDS = { maxTags: 10, maxKeyLength: 64, maxValueLength: 256 } as const;

/**
 * What only a trusted backend (an admin key) may ask of a start: skipping the fraud stages, and naming
 * the end user's IP (a client key could otherwise pick the IP its requests count against).
 */
export function assertStartPrivileges(input: StartInput, caller: Caller): void {
  if (caller.role === "ADMIN") return;
  if (input.riskCheck === false) throw new AppError("FORBIDDEN", "riskCheck: DISABLE needs an admin key");
  if (input.deviceIp != null) throw new AppError("FORBIDDEN", "deviceIp needs an admin key");
}

/** A start's own input, checked against its service before anything is read or counted (60223, 60200). */
export function assertStartInput(service: ServiceRow, input: StartInput): void {
  if ((input.channel === "SMS" && !service.smsEnabled) || (input.channel === "CALL" && !service.callEnabled)) {
    throw new AppError("CHANNEL_DISABLED", `The ${input.channel} channel is disabled for this service`);
  }
  if (input.customCode != null) {
    if (!service.customCodeEnabled) throw invalidParameter("customCode", "custom codes are not enabled for this service");
    if (!CUSTOM_CODE_RE.test(input.customCode)) throw invalidParameter("customCode", codeProblem(input.customCode, true));
  }
  if (input.locale != null && !/^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$/.test(input.locale)) throw invalidParameter("locale", "must be a language tag such as en or pt-BR");
  assertPsd2(input);
  if ((input.amount == null) !== (input.payee == null)) throw invalidParameter(input.amount == null ? "amount" : "payee", "amount and payee go together (PSD2)");
  if (input.amount != null && !service.psd2Enabled) throw invalidParameter("amount", "PSD2 is not enabled for this service (psd2Enabled)");
  assertText("customFriendlyName", input.customFriendlyName, { min: 1, max: TEXT_LIMITS.friendlyName, trim: true });
  if (input.deviceIp != null && !isIP(input.deviceIp)) throw invalidParameter("deviceIp", "must be an IPv4 or IPv6 address");
  assertTags(input.tags ?? {});
}

/** PSD2 amount and payee may appear in the message: bounded, and no control or bidi characters. */
function assertPsd2(input: { amount?: string | null; payee?: string | null }): void {
  assertText("amount", input.amount, { max: TEXT_LIMITS.psd2 });
  assertText("payee", input.payee, { max: TEXT_LIMITS.psd2 });
}

/**
 * What is wrong with a code, in words a person can act on: its length, or the first character that
 * is not allowed, named (a fullwidth "１" from a phone's IME looks like a digit and is not one).
 */
export function codeProblem(code: string, digitsOnly: boolean): string {
  const what = digitsOnly ? "4 to 10 digits 0-9" : "4 to 10 letters or digits (A-Z, a-z, 0-9)";
  const chars = [...code];
  const bad = chars.findIndex((ch) => !(digitsOnly ? /[0-9]/ : /[0-9A-Za-z]/).test(ch));
  if (bad >= 0) {
    const ch = chars[bad]!;
    const cp = "U+" + ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    const kind = /\p{Nd}/u.test(ch) ? (/[\uFF10-\uFF19]/.test(ch) ? "a fullwidth digit" : "a non-ASCII digit") : /\s/u.test(ch) ? "a space" : "a character that is not allowed";
    return `must be ${what}: character ${bad + 1} is ${kind} (${cp})`;
  }
  return `must be ${what} (got ${chars.length} characters)`;
}

function assertTags(tags: Record<string, string>): void {
  const b = TAG_BOUNDS;
  const entries = Object.entries(tags);
  if (entries.length > b.maxTags) throw invalidParameter("tags", `at most ${b.maxTags}`);
  for (const [key, value] of entries) {
    if (!key || key.length > b.maxKeyLength || typeof value !== "string" || value.length > b.maxValueLength) {
      throw invalidParameter("tags", `keys 1-${b.maxKeyLength} and values up to ${b.maxValueLength} characters`);
    }
  }
}

/** A check names its verification (by number or id) and brings a plausible code (60200). */
export function assertCheckInput(input: CheckInput): void {
  if (!input.to && !input.verificationId) throw invalidParameter("to", "either to or verificationId is required");
  if (!/^[0-9A-Za-z]{4,10}$/.test(input.code)) throw invalidParameter("code", codeProblem(input.code, false));
  assertPsd2(input);
}


/**
 * What a verification shows of its number: country and line type, or nothing when the service turned
 * lookups off (Twilio's lookup_enabled). The number is parsed either way: the risk stages need it.
 */
export function lookupOf(service: Pick<ServiceRow, "lookupEnabled">, v: Pick<VerificationRow, "countryCode" | "lineType">): { countryCode: string | null; lineType: string | null } | null {
  return service.lookupEnabled ? { countryCode: v.countryCode, lineType: v.lineType } : null;
}

/**
 * The answer to a check of a verification that is no longer PENDING, as Twilio gives it: 60202 while a
 * verification that used up its check attempts would still be within its TTL, 20404 for everything
 * else (approved, canceled, expired, failed, or a spent one past its TTL).
 */
export function notPendingError(v: VerificationRow, now: number): AppError {
  if (v.status === "MAX_ATTEMPTS_REACHED" && v.expiresAt > now) return new AppError("MAX_CHECK_ATTEMPTS_REACHED", undefined, { retryAfterSeconds: secondsLeft(v, now) });
  return notFound();
}

/** 60203: the pending verification used up its sends; a fresh one can be started once it expires. */
export function sendCapError(v: VerificationRow, now: number): AppError {
  return new AppError("MAX_SEND_ATTEMPTS_REACHED", undefined, { retryAfterSeconds: secondsLeft(v, now) });
}

function secondsLeft(v: VerificationRow, now: number): number {
  return Math.max(1, Math.ceil((v.expiresAt - now) / 1000));
}

/** 20404, the same words for unknown, another service's, and no-longer-pending verifications. */
export function notFound(): AppError {
  return new AppError("NOT_FOUND", "Verification not found or no longer pending");
}
