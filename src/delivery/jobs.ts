import { randomBytes } from "node:crypto";
import type { DeliveryJobRow } from "../store/delivery.js";
import type { SendAttemptRow, VerificationRow } from "../store/types.js";
import { currentRequestId } from "../log.js";
import { sealCode } from "./seal.js";

/** A job id: DJ + 32 hex. It doubles as the provider idempotency token of every try of the job. */
function newJobId(): string {
  return "DJ" + randomBytes(16).toString("hex");
}

export interface NewJobInput {
  verification: VerificationRow;
  attempt: SendAttemptRow;
  /** The code to deliver; sealed before it touches the row. */
  code: string;
  locale: string | null;
  /** A start's custom friendly name (null = the service's). */
  friendlyName?: string | null;
  codeSecret: string;
  now: number;
}

/**
 * The job row for one send attempt, due now. Built inside the store transaction that writes the
 * attempt (`Store.createOrResend`'s `job`), so the send and the job commit together.
 */
export function newDeliveryJob(input: NewJobInput): DeliveryJobRow {
  const id = newJobId();
  return {
    id,
    verificationId: input.verification.id,
    sendAttemptId: input.attempt.id,
    channel: input.attempt.channel,
    status: "pending",
    locale: input.locale,
    friendlyName: input.friendlyName ?? null,
    sealedCode: sealCode(input.codeSecret, id, input.code),
    attempts: 0,
    runAt: input.now,
    leaseOwner: null,
    leaseUntil: null,
    providerSid: null,
    errorCode: null,
    lastError: null,
    requestId: currentRequestId(),
    createdAt: input.now,
    updatedAt: input.now,
  };
}
