import type { Channel, VerificationStatus } from "../store/types.js";

/** What happened to a verification, as subscribers see it. */
export type VerificationEventType =
  | "CREATED"
  | "RESENT"
  | "DELIVERY_STATUS"
  | "APPROVED"
  | "CHECK_FAILED"
  | "CANCELED"
  | "MAX_ATTEMPTS_REACHED"
  | "EXPIRED"
  | "FAILED"
  | "RISK_BLOCKED";

export interface VerificationEvent {
  type: VerificationEventType;
  serviceId: string;
  /** Null for a risk block that stopped a start before any verification existed. */
  verificationId: string | null;
  status: VerificationStatus | null;
  channel: Channel | null;
  /** Milliseconds since the epoch. */
  at: number;
  /** Delivery status for DELIVERY_STATUS; the blocking stage and error code for RISK_BLOCKED. */
  deliveryStatus?: string | null;
  stage?: string | null;
  errorCode?: number | null;
  /** Country of the number (never the number itself: admins' feeds do not leak numbers). */
  country?: string | null;
}

/**
 * Topics and their payloads. `verification` is keyed by verification id, `service` by service id.
 * This map is the contract between publishers (the domain) and subscribers (GraphQL subscriptions).
 */
export type EventTopics = {
  verification: [verificationId: string, payload: VerificationEvent];
  service: [serviceId: string, payload: VerificationEvent];
};

/** What the domain publishes through; the composition root picks in-process or Redis. */
export interface EventPublisher {
  publish(event: VerificationEvent): void;
}
