import type { VerificationEvent } from "../events/types.js";

/** What a service may subscribe its webhook to (GraphQL enum WebhookEvent). */
export const WEBHOOK_EVENTS = [
  "VERIFICATION_STARTED",
  "VERIFICATION_APPROVED",
  "VERIFICATION_CANCELED",
  "VERIFICATION_EXPIRED",
  "VERIFICATION_FAILED",
  "DELIVERY_STATUS",
  "RISK_BLOCKED",
  "DELIVERY_ALERT",
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The webhook event a domain event is sent as, and its `type` on the wire; null = not sent. */
export function webhookEventOf(e: VerificationEvent): { event: WebhookEvent; type: string } | null {
  switch (e.type) {
    case "CREATED":
    case "RESENT":
      return { event: "VERIFICATION_STARTED", type: "verification.started" };
    case "APPROVED":
      return { event: "VERIFICATION_APPROVED", type: "verification.approved" };
    case "CANCELED":
      return { event: "VERIFICATION_CANCELED", type: "verification.canceled" };
    case "EXPIRED":
      return { event: "VERIFICATION_EXPIRED", type: "verification.expired" };
    case "FAILED":
    case "MAX_ATTEMPTS_REACHED":
      return { event: "VERIFICATION_FAILED", type: "verification.failed" };
    case "DELIVERY_STATUS":
      return { event: "DELIVERY_STATUS", type: "delivery.status" };
    case "RISK_BLOCKED":
      return { event: "RISK_BLOCKED", type: "risk.blocked" };
    case "DELIVERY_DEGRADED":
      return { event: "DELIVERY_ALERT", type: "alert.delivery_degraded" };
    case "DELIVERY_RECOVERED":
      return { event: "DELIVERY_ALERT", type: "alert.delivery_recovered" };
    default:
      return null;
  }
}

/**
 * The body a receiver gets (Standard Webhooks' `{ type, timestamp, data }`). `data` is the event as
 * subscribers see it: ids, status, channel, country, delivery status, error code, never the number.
 */
export function webhookBody(type: string, e: VerificationEvent): string {
  const { type: eventType, at, ...rest } = e;
  const data: Record<string, unknown> = { event: eventType };
  for (const [k, v] of Object.entries(rest)) if (v !== undefined && v !== null) data[k] = v;
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
}

/**
 * Deliveries with the same key go out in order: a verification's events, one alert's raise and clear.
 * Risk blocks (no verification) have no order to keep: each is its own key.
 */
export function orderKeyOf(e: VerificationEvent, deliveryId: string): string {
  if (e.verificationId) return e.verificationId;
  if (e.alert) return e.alert.alertId;
  return deliveryId;
}
