import { Field, ID, InputType, ObjectType } from "type-graphql";
import type { SendAttemptRow, VerificationRow } from "../../store/types.js";
import { ChannelEnum, RiskCheckEnum, VerificationStatusEnum } from "./enums.js";

@ObjectType({ description: "One delivery of the code (the first send or a resend)." })
export class SendCodeAttempt {
  @Field(() => ID, { description: "VL + 32 hex." })
  id!: string;
  @Field(() => Date, { description: "When it was sent." })
  at!: Date;
  @Field(() => ChannelEnum, { description: "SMS or CALL." })
  channel!: ChannelEnum;
  @Field(() => String, { description: "queued, sent, delivered, undelivered or failed." })
  deliveryStatus!: string;

  static from(r: SendAttemptRow): SendCodeAttempt {
    return Object.assign(new SendCodeAttempt(), { id: r.id, at: new Date(r.at), channel: r.channel as ChannelEnum, deliveryStatus: r.deliveryStatus });
  }
}

@ObjectType({ description: "What is known of the number." })
export class Lookup {
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2 country." })
  countryCode!: string | null;
  @Field(() => String, { nullable: true, description: "MOBILE, FIXED_LINE, FIXED_LINE_OR_MOBILE, VOIP, … (libphonenumber)." })
  lineType!: string | null;
}

@ObjectType({ description: "A verification: one code sent to one number. The code itself is never returned." })
export class Verification {
  @Field(() => ID, { description: "VE + 32 hex." })
  id!: string;
  @Field(() => ID, { description: "The service it belongs to." })
  serviceId!: string;
  @Field(() => String, { description: "The number in E.164." })
  to!: string;
  @Field(() => ChannelEnum, { description: "The channel of the latest send." })
  channel!: ChannelEnum;
  @Field(() => VerificationStatusEnum, { description: "Current status." })
  status!: VerificationStatusEnum;
  @Field(() => Boolean, { description: "True once APPROVED." })
  valid!: boolean;
  @Field(() => [SendCodeAttempt], { description: "Every send, oldest first." })
  sendCodeAttempts!: SendCodeAttempt[];
  /** The row's lookup; the `lookup` field resolver shows it when the service's lookupEnabled allows. */
  row!: VerificationRow;
  @Field(() => String, { nullable: true, description: "PSD2 amount given at start." })
  amount!: string | null;
  @Field(() => String, { nullable: true, description: "PSD2 payee given at start." })
  payee!: string | null;
  @Field(() => Date, { description: "When the code stops being accepted." })
  expiresAt!: Date;
  @Field(() => Date, { description: "Created." })
  createdAt!: Date;
  @Field(() => Date, { description: "Last changed." })
  updatedAt!: Date;

  static from(v: VerificationRow, attempts: SendAttemptRow[]): Verification {
    return Object.assign(new Verification(), {
      id: v.id,
      serviceId: v.serviceId,
      to: v.to,
      channel: v.channel as ChannelEnum,
      status: v.status as VerificationStatusEnum,
      valid: v.status === "APPROVED",
      sendCodeAttempts: attempts.map(SendCodeAttempt.from),
      row: v,
      amount: v.amount,
      payee: v.payee,
      expiresAt: new Date(v.expiresAt),
      createdAt: new Date(v.createdAt),
      updatedAt: new Date(v.updatedAt),
    });
  }
}

@ObjectType({ description: "The answer to checkVerification." })
export class VerificationCheck {
  @Field(() => ID, { description: "The verification checked." })
  id!: string;
  @Field(() => ID, { description: "Its service." })
  serviceId!: string;
  @Field(() => String, { description: "The number in E.164." })
  to!: string;
  @Field(() => ChannelEnum, { description: "Channel of the latest send." })
  channel!: ChannelEnum;
  @Field(() => VerificationStatusEnum, { description: "Status after this check." })
  status!: VerificationStatusEnum;
  @Field(() => Boolean, { description: "True when the code was right (status APPROVED)." })
  valid!: boolean;
  @Field(() => Date, { description: "When the check was answered." })
  dateUpdated!: Date;
  @Field(() => String, {
    nullable: true,
    description:
      "APPROVED only: a short-lived JWT (EdDSA) your backend verifies offline against /.well-known/jwks.json (aud = service id, sub = the number, jti = the verification id). See docs/operations.md.",
  })
  approvalToken!: string | null;
}

@ObjectType({ description: "What a redeemed approval token vouches for." })
export class ApprovalTokenRedemption {
  @Field(() => ID, { description: "The service the token was issued for (its `aud`)." })
  serviceId!: string;
  @Field(() => ID, { description: "The approved verification (its `jti`)." })
  verificationId!: string;
  @Field(() => String, { description: "The verified number in E.164 (its `sub`)." })
  to!: string;
  @Field(() => ChannelEnum, { description: "The channel the code went by." })
  channel!: ChannelEnum;
  @Field(() => Date, { description: "When the check approved." })
  approvedAt!: Date;
  @Field(() => Date, { description: "When the token expires." })
  expiresAt!: Date;
}

@InputType({ description: "A key/value pair kept on the decision rows of this request." })
export class TagInput {
  @Field(() => String, { description: "Tag name (1 to 64 characters)." })
  key!: string;
  @Field(() => String, { description: "Tag value (up to 256 characters)." })
  value!: string;
}

@InputType({ description: "A value for one of the service's named rate-limit buckets." })
export class RateLimitValueInput {
  @Field(() => String, { description: "The bucket set's uniqueName, e.g. end_user_id." })
  uniqueName!: string;
  @Field(() => String, { description: "The value to count against, e.g. u-42." })
  value!: string;
}

@InputType({ description: "Evidence of the user's opt-in to receive the code, kept as a consent record (the server adds the client IP and its own time)." })
export class ConsentInput {
  @Field(() => String, { description: "Which consent notice the user saw, e.g. signup-2026-01 (1 to 64 printable characters)." })
  textVersion!: string;
  @Field(() => Date, { description: "When the user agreed (within the last 24 hours)." })
  agreedAt!: Date;
  @Field(() => String, { nullable: true, description: "The user's browser (navigator.userAgent), up to 512 characters." })
  userAgent?: string;
}

@InputType({ description: "Start (or resend) a verification." })
export class StartVerificationInput {
  @Field(() => ID, { description: "The service." })
  serviceId!: string;
  @Field(() => String, { description: "E.164 number, or a national number with `country`." })
  to!: string;
  @Field(() => ChannelEnum, { description: "SMS or CALL." })
  channel!: ChannelEnum;
  @Field(() => String, { nullable: true, description: "ISO country hint for national-format numbers." })
  country?: string;
  @Field(() => String, { nullable: true, description: "Message language, e.g. en, es, pt-BR." })
  locale?: string;
  @Field(() => String, { nullable: true, description: "Your own code (service must enable custom codes)." })
  customCode?: string;
  @Field(() => String, { nullable: true, description: "PSD2: the amount the user approves." })
  amount?: string;
  @Field(() => String, { nullable: true, description: "PSD2: who is paid." })
  payee?: string;
  @Field(() => RiskCheckEnum, { nullable: true, description: "DISABLE skips geo and prefix guard (admin keys only)." })
  riskCheck?: RiskCheckEnum;
  @Field(() => [TagInput], { nullable: true, description: "Up to 10 tags kept on the decision log." })
  tags?: TagInput[];
  @Field(() => [RateLimitValueInput], { nullable: true, description: "Values for the service's named rate limits." })
  rateLimits?: RateLimitValueInput[];
  @Field(() => String, { nullable: true, description: "A name for this message instead of the service's (1 to 30 characters)." })
  customFriendlyName?: string;
  @Field(() => String, { nullable: true, description: "The end user's IP, from a backend (admin keys only): per-IP limits and signals count it." })
  deviceIp?: string;
  @Field(() => ConsentInput, { nullable: true, description: "The user's opt-in, recorded as evidence; required when the service has requireConsent." })
  consent?: ConsentInput;
}

@InputType({ description: "Check a code. Identify the verification by `to` (its pending one) or by `verificationId`." })
export class CheckVerificationInput {
  @Field(() => ID, { description: "The service." })
  serviceId!: string;
  @Field(() => String, { nullable: true, description: "The number the code was sent to." })
  to?: string;
  @Field(() => ID, { nullable: true, description: "Or the verification id." })
  verificationId?: string;
  @Field(() => String, { description: "The code the user typed." })
  code!: string;
  @Field(() => String, { nullable: true, description: "PSD2: must equal the amount given at start." })
  amount?: string;
  @Field(() => String, { nullable: true, description: "PSD2: must equal the payee given at start." })
  payee?: string;
}
