import type { Channel } from "../store/types.js";

/** One code to deliver. `body` is the rendered text (SMS) or the text to speak (CALL). */
export interface OutboundMessage {
  serviceId: string;
  verificationId: string;
  sendAttemptId: string;
  to: string;
  channel: Channel;
  code: string;
  locale: string;
  body: string;
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
  send(message: OutboundMessage): Promise<DeliveryReceipt>;
}
