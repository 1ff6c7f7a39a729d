import type { AutoBlockLevel } from "../store/fraud.js";
import type { Channel, VerificationStatus } from "../store/types.js";

export type { AutoBlockLevel };

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
  | "RISK_BLOCKED"
  | "AUTO_BLOCKED"
  | "DELIVERY_DEGRADED"
  | "DELIVERY_RECOVERED"
  | "BUDGET_EXHAUSTED";

/** A share of a service's daily budget that ran out (the first refusal it caused that day). */
export interface BudgetEvent {
  /** CAPPED: the capped share (MONITOR, new and unconverted destinations); ALL: the whole budget. */
  share: "CAPPED" | "ALL";
  /** UTC day, YYYY-MM-DD. */
  day: string;
  spentUsd: number;
  limitUsd: number;
}


/** An automatic block as the detector wrote it (or renewed it): what, why, with which figures, until when. */
export interface AutoBlockEvent {
  level: AutoBlockLevel;
  /** The blocked prefix ("+998901", or a range "+99890"); for a country, its calling code. */
  prefix: string;
  /** The blocked country (COUNTRY), or the country the prefix belongs to when known. */
  country: string | null;
  /** The rule that fired, e.g. "burst", "sustained"; "renewed" when refused attempts kept it alive. */
  rule: string;
  /** The reason stored on the block (what an admin reads in blockedPrefixes). */
  reason: string;
  /** The numbers the rule judged on, e.g. { sends: 10, approvals: 0, windowMinutes: 15 }. */
  figures: Record<string, number>;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

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
  /** AUTO_BLOCKED: the block the detector wrote. */
  autoBlock?: AutoBlockEvent | null;
  /** BUDGET_EXHAUSTED: which share ran out, and its figures. */
  budget?: BudgetEvent | null;
  /** DELIVERY_DEGRADED / DELIVERY_RECOVERED: the alert and its figures (alerts/delivery-alerts.ts). */
  alert?: AlertFiguresEvent | null;
}

/** What a delivery-rate alert event says: which rate, how it compares, on how many sends. */
export interface AlertFiguresEvent {
  alertId: string;
  metric: "DELIVERED_RATE" | "APPROVED_RATE";
  /** The recent window's rate (at raise, or at recovery) and the sends it is over. */
  rate: number;
  sends: number;
  /** The 7-day baseline rate the alert was raised against. */
  baseline: number;
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

