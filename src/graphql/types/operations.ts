import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { DeliveryAlertRow } from "../../store/alerts.js";
import type { WebhookDeliveryRow } from "../../store/webhooks.js";
import type { WebhookEndpoint } from "../../webhooks/webhooks.js";

export enum WebhookEventEnum {
  VERIFICATION_STARTED = "VERIFICATION_STARTED",
  VERIFICATION_APPROVED = "VERIFICATION_APPROVED",
  VERIFICATION_CANCELED = "VERIFICATION_CANCELED",
  VERIFICATION_EXPIRED = "VERIFICATION_EXPIRED",
  VERIFICATION_FAILED = "VERIFICATION_FAILED",
  DELIVERY_STATUS = "DELIVERY_STATUS",
  RISK_BLOCKED = "RISK_BLOCKED",
  DELIVERY_ALERT = "DELIVERY_ALERT",
}
registerEnumType(WebhookEventEnum, {
  name: "WebhookEvent",
  description: "Events a service's webhook may receive (its body's `type` in parentheses).",
  valuesConfig: {
    VERIFICATION_STARTED: { description: "A code was sent or re-sent (verification.started)." },
    VERIFICATION_APPROVED: { description: "A correct code was checked (verification.approved)." },
    VERIFICATION_CANCELED: { description: "A verification was canceled (verification.canceled)." },
    VERIFICATION_EXPIRED: { description: "A code's time to live passed (verification.expired)." },
    VERIFICATION_FAILED: { description: "Delivery failed for good, or the check attempts ran out (verification.failed)." },
    DELIVERY_STATUS: { description: "The provider reported a delivery status (delivery.status)." },
    RISK_BLOCKED: { description: "A risk stage blocked a start or check (risk.blocked)." },
    DELIVERY_ALERT: { description: "A delivery-rate alert was raised or cleared (alert.delivery_degraded, alert.delivery_recovered)." },
  },
});

@ObjectType({ description: "A service's outbound webhook (Standard Webhooks signing; see docs/operations.md)." })
export class ServiceWebhook {
  @Field(() => ID, { description: "The service." })
  serviceId!: string;
  @Field(() => String, { description: "Where events are POSTed." })
  url!: string;
  @Field(() => [WebhookEventEnum], { description: "The events sent." })
  events!: WebhookEventEnum[];
  @Field(() => String, { nullable: true, description: "The signing secret (whsec_…): returned once, when it is made (first set, or rotateSecret). Null otherwise." })
  secret!: string | null;

  static from(e: WebhookEndpoint): ServiceWebhook {
    return Object.assign(new ServiceWebhook(), { ...e, events: e.events as WebhookEventEnum[] });
  }
}

@ObjectType({ description: "One event in the webhook outbox." })
export class WebhookDelivery {
  @Field(() => ID, { description: "The webhook-id header (msg_…), the same on every try." })
  id!: string;
  @Field(() => String, { description: "The body's type, e.g. verification.approved." })
  type!: string;
  @Field(() => String, { description: "pending, sending, delivered or failed (given up)." })
  status!: string;
  @Field(() => Int, { description: "Tries so far." })
  attempts!: number;
  @Field(() => Int, { nullable: true, description: "HTTP status of the last answer; null when there was none." })
  lastStatus!: number | null;
  @Field(() => String, { nullable: true, description: "Why the last try failed." })
  lastError!: string | null;
  @Field(() => Date, { description: "Enqueued." })
  createdAt!: Date;
  @Field(() => Date, { description: "Last changed." })
  updatedAt!: Date;

  static from(r: WebhookDeliveryRow): WebhookDelivery {
    return Object.assign(new WebhookDelivery(), {
      id: r.id,
      type: r.eventType,
      status: r.status,
      attempts: r.attempts,
      lastStatus: r.lastStatus,
      lastError: r.lastError,
      createdAt: new Date(r.createdAt),
      updatedAt: new Date(r.updatedAt),
    });
  }
}

@ObjectType({ description: "A delivery-rate alert: a rate of one service × country × channel that fell against its 7-day baseline." })
export class DeliveryAlert {
  @Field(() => ID, { description: "AL + 32 hex." })
  id!: string;
  @Field(() => ID, { description: "The service." })
  serviceId!: string;
  @Field(() => String, { description: "ISO country of the numbers, or unknown." })
  country!: string;
  @Field(() => String, { description: "SMS or CALL." })
  channel!: string;
  @Field(() => String, { description: "DELIVERED_RATE (delivered / sent) or APPROVED_RATE (approved / sent)." })
  metric!: string;
  @Field(() => Boolean, { description: "True until the rate recovers." })
  open!: boolean;
  @Field(() => Date, { description: "When it was raised." })
  raisedAt!: Date;
  @Field(() => Date, { nullable: true, description: "When it cleared." })
  resolvedAt!: Date | null;
  @Field(() => Float, { description: "The window's rate when raised." })
  rate!: number;
  @Field(() => Int, { description: "Sends in that window." })
  sends!: number;
  @Field(() => Float, { description: "The 7-day baseline rate." })
  baseline!: number;
  @Field(() => Int, { description: "Sends in the baseline." })
  baselineSends!: number;
  @Field(() => Float, { nullable: true, description: "The window's rate when it cleared." })
  recoveredRate!: number | null;
  @Field(() => Int, { nullable: true, description: "Sends in that window." })
  recoveredSends!: number | null;

  static from(r: DeliveryAlertRow): DeliveryAlert {
    const { openKey, raisedAt, resolvedAt, ...rest } = r;
    return Object.assign(new DeliveryAlert(), { ...rest, open: openKey !== null, raisedAt: new Date(raisedAt), resolvedAt: resolvedAt === null ? null : new Date(resolvedAt) });
  }
}
