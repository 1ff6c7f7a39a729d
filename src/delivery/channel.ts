import type { Channel } from "../store/types.js";

/** One code to deliver, composed by the worker from its job (delivery/compose.ts). */
export interface OutboundMessage {
  /** The delivery job: the provider's idempotency token, the same on every try of this send. */
  jobId: string;
  serviceId: string;
  verificationId: string;
  sendAttemptId: string;
  to: string;
  channel: Channel;
  /** The SMS text; for CALL, a transcript of what the call says (the outbox shows it). */
  body: string;
  /** CALL only: the TwiML the call plays (the code digit by digit, repeated). */
  twiml: string | null;
}

export interface DeliveryReceipt {
  /** The provider's id for the message or call (Twilio SM…/CA…), when there is one. */
  providerSid: string | null;
  /** queued | sent | delivered | failed … */
  status: string;
}

/** A way to get a code to a phone: the outbox (development, tests) or Twilio. */
export interface DeliveryChannel {
  readonly name: string;
  /** Throws a {@link DeliveryError} when the provider refused or could not be reached. */
  send(message: OutboundMessage): Promise<DeliveryReceipt>;
}

/**
 * Why a send failed, as the worker needs to know it: try again later (429, 5xx, timeouts, network),
 * or give up (the number is invalid, unreachable, or blocked; the credentials are wrong).
 */
export class DeliveryError extends Error {
  override name = "DeliveryError";

  constructor(
    message: string,
    /** True when the same request may succeed later. */
    readonly retryable: boolean,
    /** The provider's error number (Twilio's 21211, 21408, …), when it gave one. */
    readonly errorCode: number | null = null,
    /** HTTP status of the provider's answer; null for timeouts and network errors. */
    readonly status: number | null = null,
  ) {
    super(message);
  }
}
