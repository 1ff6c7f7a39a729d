import { AppError, invalidParameter } from "../errors.js";
import type { ServiceRow, VerificationRow } from "../store/types.js";
import { CUSTOM_CODE_RE } from "./codes.js";
import type { CheckInput, StartInput } from "./lifecycle.js";

/**
 * The lifecycle's input rules and the answers it gives for verifications it cannot act on. Kept apart
 * from the flow in lifecycle.ts so each reads on its own.
 */

/** A start's own input, checked against its service before anything is read or counted (60223, 60200). */
export function assertStartInput(service: ServiceRow, input: StartInput): void {
  if ((input.channel === "SMS" && !service.smsEnabled) || (input.channel === "CALL" && !service.callEnabled)) {
    throw new AppError("CHANNEL_DISABLED", `The ${input.channel} channel is disabled for this service`);
  }
  if (input.customCode != null) {
    if (!service.customCodeEnabled) throw invalidParameter("customCode", "custom codes are not enabled for this service");
    if (!CUSTOM_CODE_RE.test(input.customCode)) throw invalidParameter("customCode", "must be 4 to 10 digits");
  }
  if (input.locale != null && !/^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$/.test(input.locale)) throw invalidParameter("locale", "must be a language tag such as en or pt-BR");
  if ((input.amount == null) !== (input.payee == null)) throw invalidParameter(input.amount == null ? "amount" : "payee", "amount and payee go together (PSD2)");
}

/** A check names its verification (by number or id) and brings a plausible code (60200). */
export function assertCheckInput(input: CheckInput): void {
  if (!input.to && !input.verificationId) throw invalidParameter("to", "either to or verificationId is required");
  if (!/^[0-9A-Za-z]{4,10}$/.test(input.code)) throw invalidParameter("code", "must be 4 to 10 characters");
}


/**
 * The answer to a check of a verification that is no longer PENDING, as Twilio gives it: 60202 while a
 * verification that used up its check attempts would still be within its TTL, 20404 for everything
 * else (approved, canceled, expired, failed, or a spent one past its TTL).
 */
export function notPendingError(v: VerificationRow, now: number): AppError {
  if (v.status === "MAX_ATTEMPTS_REACHED" && v.expiresAt > now) return new AppError("MAX_CHECK_ATTEMPTS_REACHED");
  return notFound();
}

/** 20404, the same words for unknown, another service's, and no-longer-pending verifications. */
export function notFound(): AppError {
  return new AppError("NOT_FOUND", "Verification not found or no longer pending");
}
