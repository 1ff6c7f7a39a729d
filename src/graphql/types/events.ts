import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { AutoBlockEvent, BudgetEvent, VerificationEventType } from "../../events/types.js";
import type { WatchEvent } from "../../verification/watch.js";
import { ChannelEnum, VerificationStatusEnum } from "./enums.js";

export enum VerificationEventTypeEnum {
  SUBSCRIBED = "SUBSCRIBED",
  CREATED = "CREATED",
  RESENT = "RESENT",
  DELIVERY_STATUS = "DELIVERY_STATUS",
  APPROVED = "APPROVED",
  CHECK_FAILED = "CHECK_FAILED",
  CANCELED = "CANCELED",
  MAX_ATTEMPTS_REACHED = "MAX_ATTEMPTS_REACHED",
  EXPIRED = "EXPIRED",
  FAILED = "FAILED",
  RISK_BLOCKED = "RISK_BLOCKED",
  AUTO_BLOCKED = "AUTO_BLOCKED",
  DELIVERY_DEGRADED = "DELIVERY_DEGRADED",
  DELIVERY_RECOVERED = "DELIVERY_RECOVERED",
  BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED",
}
registerEnumType(VerificationEventTypeEnum, {
  name: "VerificationEventType",
  description: "What happened. SUBSCRIBED is always the first message of a subscription: from then on no event is missed.",
  valuesConfig: {
    SUBSCRIBED: { description: "The subscription is live. For verificationUpdated it carries the verification's current status." },
    CREATED: { description: "A verification was created and its first code sent." },
    RESENT: { description: "The code was sent again (a start for a number with a pending verification)." },
    DELIVERY_STATUS: { description: "The provider reported a delivery status (deliveryStatus)." },
    APPROVED: { description: "A correct code was checked." },
    CHECK_FAILED: { description: "A wrong code was checked; attempts remain." },
    CANCELED: { description: "The verification was canceled." },
    MAX_ATTEMPTS_REACHED: { description: "The last allowed check was wrong." },
    EXPIRED: { description: "The code's time to live passed (pushed by the expiry sweeper)." },
    FAILED: { description: "The code could not be delivered." },
    RISK_BLOCKED: { description: "A start or check was blocked by a risk stage (service feed only; stage, errorCode, country)." },
    AUTO_BLOCKED: { description: "The SMS-pumping detector blocked (or renewed the block of) a prefix, a range or a country (service feed only; see autoBlock)." },
    DELIVERY_DEGRADED: { description: "Service feed only: a delivered or approved rate of this country and channel fell under half its 7-day baseline (alert)." },
    DELIVERY_RECOVERED: { description: "Service feed only: the rate of an open DELIVERY_DEGRADED alert recovered (alert)." },
    BUDGET_EXHAUSTED: { description: "A share of the service's daily budget ran out: its first refusal (60606) of the day (service feed only; see budget)." },
  },
});

export enum AutoBlockLevelEnum {
  PREFIX = "PREFIX",
  RANGE = "RANGE",
  COUNTRY = "COUNTRY",
}
registerEnumType(AutoBlockLevelEnum, {
  name: "AutoBlockLevel",
  description: "What an automatic block covers: one prefix (calling code and 3 digits), a wider range (calling code and 2 digits), or a whole country.",
});

@ObjectType({ description: "A share of a service's daily budget that ran out." })
export class BudgetState {
  @Field(() => String, { description: "CAPPED: the capped share (MONITOR, new and unconverted destinations; the others still send). ALL: the whole budget." })
  share!: string;
  @Field(() => String, { description: "UTC day, YYYY-MM-DD." })
  day!: string;
  @Field(() => Float, { description: "Estimated US dollars the share spent that day." })
  spentUsd!: number;
  @Field(() => Float, { description: "The share's limit in US dollars." })
  limitUsd!: number;
}

@ObjectType({ description: "One number a detector rule judged on." })
export class DetectorFigure {
  @Field(() => String, { description: "What it counts, e.g. sends, approvals, baselinePerWindow, windowMinutes." })
  name!: string;
  @Field(() => Float, { description: "Its value." })
  value!: number;

  static list(figures: Record<string, number>): DetectorFigure[] {
    return Object.entries(figures).map(([name, value]) => Object.assign(new DetectorFigure(), { name, value }));
  }
}

@ObjectType({ description: "An automatic block with its evidence: the rule that fired, its figures, and when it lapses unless renewed." })
export class AutoBlock {
  @Field(() => AutoBlockLevelEnum, { description: "PREFIX, RANGE or COUNTRY." })
  level!: AutoBlockLevelEnum;
  @Field(() => String, { description: "The blocked prefix or range; for a country, its calling code." })
  prefix!: string;
  @Field(() => String, { nullable: true, description: "The blocked country (COUNTRY), or the country of the prefix when known." })
  country!: string | null;
  @Field(() => String, { description: "The rule that fired (e.g. burst, sustained), or renewed when refused attempts kept the block alive." })
  rule!: string;
  @Field(() => String, { description: "The reason stored on the block, as blockedPrefixes shows it." })
  reason!: string;
  @Field(() => [DetectorFigure], { description: "The figures the rule judged on." })
  figures!: DetectorFigure[];
  @Field(() => Date, { description: "When the block lapses unless renewed." })
  expiresAt!: Date;

  static from(b: AutoBlockEvent): AutoBlock {
    return Object.assign(new AutoBlock(), {
      ...b,
      level: b.level as AutoBlockLevelEnum,
      figures: DetectorFigure.list(b.figures),
      expiresAt: new Date(b.expiresAt),
    });
  }
}

/** Every domain event type has a GraphQL value: adding a type to events/types.ts without one fails to compile. */
const TYPE_OF: Record<VerificationEventType | "SUBSCRIBED", VerificationEventTypeEnum> = {
  SUBSCRIBED: VerificationEventTypeEnum.SUBSCRIBED,
  CREATED: VerificationEventTypeEnum.CREATED,
  RESENT: VerificationEventTypeEnum.RESENT,
  DELIVERY_STATUS: VerificationEventTypeEnum.DELIVERY_STATUS,
  APPROVED: VerificationEventTypeEnum.APPROVED,
  CHECK_FAILED: VerificationEventTypeEnum.CHECK_FAILED,
  CANCELED: VerificationEventTypeEnum.CANCELED,
  MAX_ATTEMPTS_REACHED: VerificationEventTypeEnum.MAX_ATTEMPTS_REACHED,
  EXPIRED: VerificationEventTypeEnum.EXPIRED,
  FAILED: VerificationEventTypeEnum.FAILED,
  RISK_BLOCKED: VerificationEventTypeEnum.RISK_BLOCKED,
  AUTO_BLOCKED: VerificationEventTypeEnum.AUTO_BLOCKED,
  DELIVERY_DEGRADED: VerificationEventTypeEnum.DELIVERY_DEGRADED,
  DELIVERY_RECOVERED: VerificationEventTypeEnum.DELIVERY_RECOVERED,
  BUDGET_EXHAUSTED: VerificationEventTypeEnum.BUDGET_EXHAUSTED,
};

@ObjectType({ description: "The figures of a delivery-rate alert event." })
export class AlertFigures {
  @Field(() => ID, { description: "The alert (deliveryAlerts lists it)." })
  alertId!: string;
  @Field(() => String, { description: "DELIVERED_RATE (delivered / sent) or APPROVED_RATE (approved / sent)." })
  metric!: string;
  @Field(() => Float, { description: "The recent window's rate." })
  rate!: number;
  @Field(() => Int, { description: "Sends in the recent window." })
  sends!: number;
  @Field(() => Float, { description: "The 7-day baseline rate the alert was raised against." })
  baseline!: number;
}

@ObjectType({ description: "A status change of a verification, or a risk block, as it happens. Never carries the number or the code." })
export class VerificationEvent {
  @Field(() => VerificationEventTypeEnum, { description: "What happened." })
  type!: VerificationEventTypeEnum;
  @Field(() => ID, { description: "The service." })
  serviceId!: string;
  @Field(() => ID, { nullable: true, description: "The verification; null for a risk block that stopped a start before one existed." })
  verificationId!: string | null;
  @Field(() => VerificationStatusEnum, { nullable: true, description: "The verification's status after the event." })
  status!: VerificationStatusEnum | null;
  @Field(() => ChannelEnum, { nullable: true, description: "The channel of the latest send." })
  channel!: ChannelEnum | null;
  @Field(() => Date, { description: "When it happened." })
  at!: Date;
  @Field(() => String, { nullable: true, description: "DELIVERY_STATUS: queued, sent, delivered, undelivered or failed." })
  deliveryStatus!: string | null;
  @Field(() => String, { nullable: true, description: "RISK_BLOCKED: the stage that blocked." })
  stage!: string | null;
  @Field(() => Int, { nullable: true, description: "RISK_BLOCKED: the error code the caller got (e.g. 60410)." })
  errorCode!: number | null;
  @Field(() => String, { nullable: true, description: "Country of the number (ISO alpha-2), when known." })
  country!: string | null;
  @Field(() => AutoBlock, { nullable: true, description: "AUTO_BLOCKED: the block, its rule, figures and expiry." })
  autoBlock!: AutoBlock | null;
  @Field(() => AlertFigures, { nullable: true, description: "DELIVERY_DEGRADED / DELIVERY_RECOVERED: the alert and its figures." })
  alert!: AlertFigures | null;
  @Field(() => BudgetState, { nullable: true, description: "BUDGET_EXHAUSTED: the share that ran out, and its figures." })
  budget!: BudgetState | null;

  static from(e: WatchEvent): VerificationEvent {
    return Object.assign(new VerificationEvent(), {
      type: TYPE_OF[e.type],
      serviceId: e.serviceId,
      verificationId: e.verificationId,
      status: (e.status as VerificationStatusEnum | null) ?? null,
      channel: (e.channel as ChannelEnum | null) ?? null,
      at: new Date(e.at),
      deliveryStatus: e.deliveryStatus ?? null,
      stage: e.stage ?? null,
      errorCode: e.errorCode ?? null,
      country: e.country ?? null,
      autoBlock: e.autoBlock ? AutoBlock.from(e.autoBlock) : null,
      alert: e.alert ?? null,
      budget: e.budget ? Object.assign(new BudgetState(), e.budget satisfies BudgetEvent) : null,
    });
  }
}
