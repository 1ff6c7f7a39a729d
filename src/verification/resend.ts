import { invalidParameter } from "../errors.js";
import type { VerificationRow } from "../store/types.js";
import { deriveCode, hashCode, hashesEqual } from "./codes.js";

/**
 * Rules of a resend (a start for a number that already has a live PENDING verification): the resend
 * sends the same code again, as Twilio does, so it must not contradict the pending verification.
 */

/** What a start brings that a resend must agree with. */
export interface ResendRequest {
  customCode?: string | null;
  amount?: string | null;
  payee?: string | null;
}

/**
 * Throws 60200 when a start cannot be a resend of `pending`: a different custom code, no custom code for
 * a custom-code verification, or a different PSD2 amount or payee (the check must present the pair the
 * user was first asked to approve). Called before the write, so a refused resend costs no send.
 */
export function assertResendMatches(secret: string, pending: VerificationRow, input: ResendRequest): void {
  if (input.customCode != null) {
    if (!hashesEqual(pending.codeHash, hashCode(secret, pending.id, input.customCode))) {
      throw invalidParameter("customCode", "a verification with another code is pending for this number: pass the same customCode, or cancel it first");
    }
  } else if (pending.codeSeed === null) {
    throw invalidParameter("customCode", "a resend of a custom-code verification must pass the same custom code");
  }
  if ((input.amount != null && input.amount !== pending.amount) || (input.payee != null && input.payee !== pending.payee)) {
    throw invalidParameter("amount", "a verification with another amount or payee is pending for this number: cancel it first");
  }
}

/**
 * The code of a generated-code verification, re-derived from its seed. The row does not record the
 * code's length and an admin may have changed the service's codeLength since the start, so the length
 * whose hash matches the stored one wins (at most seven HMACs, on resends only).
 */
export function resendCode(secret: string, v: VerificationRow, serviceCodeLength: number): string {
  if (!v.codeSeed) throw new Error("resendCode needs a generated-code verification");
  const lengths = [serviceCodeLength, 4, 5, 6, 7, 8, 9, 10].filter((n, i, all) => all.indexOf(n) === i);
  for (const length of lengths) {
    const code = deriveCode(secret, v.codeSeed, length);
    if (hashesEqual(v.codeHash, hashCode(secret, v.id, code))) return code;
  }
  // Only when CODE_SECRET changed under a pending verification: nothing can check its code anyway.
  throw new Error("the pending verification's code cannot be re-derived (was CODE_SECRET changed?)");
}
