import type { Channel, SendAttemptRow, VerificationRow } from "./types.js";
import type { EventRows } from "./webhooks.js";

/** A send attempt and the verification it belongs to (what a DELIVERY_STATUS event is built from). */
export interface AttemptWithVerification {
  attempt: SendAttemptRow;
  verification: VerificationRow;
}

/**
 * Durable delivery jobs: the transactional outbox behind every send. A job row is written in the same
 * transaction as the verification and its send attempt (see `Store.createOrResend`), so a committed
 * start is always sent, and a crashed instance's jobs are picked up by another one.
 *
 * Life of a job: `pending` -> (claimed) `sending` -> `sent` | `failed` | `canceled`, or back to
 * `pending` with a later `runAt` after a transient error. A claim is a lease: a `sending` job whose
 * `leaseUntil` passed belongs to whoever claims it next (its first owner died mid-send).
 */
export type DeliveryJobStatus = "pending" | "sending" | "sent" | "failed" | "canceled";

export interface DeliveryJobRow {
  /** DJ + 32 hex; also the idempotency token sent to the provider on every try of this job. */
  id: string;
  verificationId: string;
  sendAttemptId: string;
  channel: Channel;
  status: DeliveryJobStatus;
  /** Locale asked for at this start (a resend may ask for another language than the first send). */
  locale: string | null;
  /** The name this send uses instead of the service's (a start's custom friendly name); null = the service's. */
  friendlyName: string | null;
  /**
   * The code, sealed with AES-256-GCM under a key derived from CODE_SECRET (delivery/seal.ts); wiped
   * when the job reaches a final state. Never the code in clear.
   */
  sealedCode: string | null;
  /** Tries started so far (a claim counts one, so a job that crashes its worker also runs out). */
  attempts: number;
  /** Not before this time (ms). */
  runAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  providerSid: string | null;
  /** The provider's error number of the last failure (Twilio's 21211, 20429, …). */
  errorCode: number | null;
  lastError: string | null;
  /** The request that started this send: the worker's and the callbacks' log lines carry it too. */
  requestId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Makes the job row for a send attempt of a verification (see `Store.createOrResend`). Synchronous. */
export type DeliveryJobBuilder = (verification: VerificationRow, attempt: SendAttemptRow) => DeliveryJobRow;

/** How a finished send is recorded on the job. */
export type JobOutcome =
  | { status: "sent"; providerSid: string | null }
  | { status: "failed"; errorCode: number | null; error: string }
  | { status: "canceled"; error: string };

/** The columns {@link DeliveryJobStore.finish} writes for an outcome, on either database. */
export function finishedJobColumns(outcome: JobOutcome, now: number) {
  return {
    status: outcome.status,
    // The sealed code is only needed while the job may still send.
    sealedCode: null,
    leaseOwner: null,
    leaseUntil: null,
    providerSid: outcome.status === "sent" ? outcome.providerSid : undefined,
    errorCode: outcome.status === "failed" ? outcome.errorCode : undefined,
    lastError: outcome.status === "sent" ? undefined : outcome.error,
    updatedAt: now,
  };
}

/** A delivery status to record on a send attempt (from the channel's receipt or a status callback). */
export interface AttemptStatusUpdate {
  status: string;
  providerSid?: string | null;
  price?: string | null;
  priceUnit?: string | null;
  errorCode?: number | null;
}

/**
 * Progress order of delivery statuses. A send attempt's status only moves forward, because Twilio's
 * callbacks may arrive out of order (a `sent` after `delivered`) and the worker's own receipt may
 * land after the first callback. Final statuses share the top rank: the first one recorded stays.
 */
export const DELIVERY_STATUS_RANK: Record<string, number> = {
  queued: 0,
  sending: 1,
  sent: 1,
  delivered: 2,
  undelivered: 2,
  failed: 2,
  canceled: 2,
};

/** Every method is one conditional statement; none holds a lock across a provider round trip. */
export interface DeliveryJobStore {
  /**
   * Claims up to `limit` due jobs for `owner` until `now + leaseMs`: `pending` ones whose `runAt` came,
   * and `sending` ones whose lease expired. The UPDATE that claims re-tests "due" on every row it
   * takes, so two workers never claim the same job (PostgreSQL: candidates FOR UPDATE SKIP LOCKED).
   */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<DeliveryJobRow[]>;
  /** Final state; guarded by `status = 'sending' AND lease_owner = owner`. False when the lease was lost. */
  finish(id: string, owner: string, outcome: JobOutcome, now: number): Promise<boolean>;
  /** Back to `pending` at `runAt` after a transient error; guarded like {@link finish}. */
  reschedule(id: string, owner: string, runAt: number, errorCode: number | null, error: string, now: number): Promise<boolean>;
  /** When the next job becomes claimable (a pending job's runAt or a lease's end), or null when none is open: the worker sleeps until then. */
  nextDueAt(): Promise<number | null>;
  /** The job of a send attempt (one per attempt): a status callback finds the request it belongs to. */
  jobForAttempt(sendAttemptId: string): Promise<DeliveryJobRow | null>;
  /**
   * Records a delivery status on a send attempt, moving `delivery_status` forward only
   * ({@link DELIVERY_STATUS_RANK}); provider sid, price and error code fill in when given.
   * Returns the attempt after the write, or null when there is no such attempt (or it already
   * belongs to another provider sid than `update.providerSid`). `events`: the webhook deliveries of
   * the DELIVERY_STATUS event, built from the attempt after the write and its verification, committed
   * with the write (store/webhooks.ts).
   */
  recordAttemptStatus(sendAttemptId: string, update: AttemptStatusUpdate, events?: EventRows<AttemptWithVerification>): Promise<SendAttemptRow | null>;
}
