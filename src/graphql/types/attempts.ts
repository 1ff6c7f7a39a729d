import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import type { DecisionPage } from "../../stats/decision-log.js";
import type { RiskDecisionRow } from "../../store/types.js";
import { ChannelEnum } from "./enums.js";

export enum DecisionKindEnum {
  START = "START",
  CHECK = "CHECK",
}
registerEnumType(DecisionKindEnum, { name: "DecisionKind", description: "Which request the risk pipeline judged." });

export enum DecisionOutcomeEnum {
  ALLOWED = "ALLOWED",
  BLOCKED = "BLOCKED",
}
registerEnumType(DecisionOutcomeEnum, { name: "DecisionOutcome", description: "What the risk pipeline decided." });

@ObjectType({ description: "A tag a start carried." })
export class AttemptTag {
  @Field(() => String, { description: "Tag name." })
  key!: string;
  @Field(() => String, { description: "Tag value." })
  value!: string;
}

@ObjectType({ description: "One decision of the risk pipeline: a start or a check, allowed or blocked (the decision log)." })
export class VerificationAttempt {
  @Field(() => ID, { description: "VD + 32 hex." })
  id!: string;
  @Field(() => ID, { description: "The service." })
  serviceId!: string;
  @Field(() => ID, { nullable: true, description: "The verification it started, resent or checked; null when blocked before one existed." })
  verificationId!: string | null;
  @Field(() => DecisionKindEnum, { description: "START or CHECK." })
  kind!: DecisionKindEnum;
  @Field(() => DecisionOutcomeEnum, { description: "ALLOWED or BLOCKED." })
  outcome!: DecisionOutcomeEnum;
  @Field(() => String, { nullable: true, description: "The stage that blocked." })
  stage!: string | null;
  @Field(() => String, { nullable: true, description: "The block's machine code, e.g. PREFIX_BLOCKED." })
  code!: string | null;
  @Field(() => Int, { nullable: true, description: "The error code the caller got, e.g. 60410." })
  errorCode!: number | null;
  @Field(() => String, { nullable: true, description: "Why it was blocked (for admins; callers only get the code)." })
  reason!: string | null;
  @Field(() => String, { nullable: true, description: "What stages in shadow mode would have blocked: stage:CODE:reason, separated by '; '." })
  shadow!: string | null;
  @Field(() => String, { nullable: true, description: "The number in E.164; null when it could not be parsed." })
  to!: string | null;
  @Field(() => String, { nullable: true, description: "Country of the number (ISO alpha-2)." })
  country!: string | null;
  @Field(() => String, { nullable: true, description: "Prefix of the number, e.g. +44741." })
  prefix!: string | null;
  @Field(() => String, { nullable: true, description: "Line type (libphonenumber), e.g. MOBILE." })
  lineType!: string | null;
  @Field(() => String, { nullable: true, description: "Client IP as the server resolved it." })
  ip!: string | null;
  @Field(() => ChannelEnum, { nullable: true, description: "SMS or CALL, when known." })
  channel!: ChannelEnum | null;
  @Field(() => [AttemptTag], { description: "Tags the start carried." })
  tags!: AttemptTag[];
  @Field(() => Boolean, { description: "START only: the verification was approved later (Twilio's conversion status)." })
  converted!: boolean;
  @Field(() => ID, { nullable: true, description: "Allowed starts: the send attempt (VL…), Twilio's verification attempt SID." })
  attemptId!: string | null;
  @Field(() => Date, { description: "When it was decided." })
  createdAt!: Date;

  static from(r: RiskDecisionRow): VerificationAttempt {
    const tags = r.tags ? Object.entries(JSON.parse(r.tags) as Record<string, string>).map(([key, value]) => ({ key, value })) : [];
    return Object.assign(new VerificationAttempt(), {
      ...r,
      kind: r.kind as DecisionKindEnum,
      outcome: r.outcome as DecisionOutcomeEnum,
      channel: (r.channel as ChannelEnum | null) ?? null,
      tags,
      createdAt: new Date(r.createdAt),
    });
  }
}

@ObjectType({ description: "An attempt and its cursor." })
export class VerificationAttemptEdge {
  @Field(() => String, { description: "Opaque; pass as `after` to get the attempts that follow this one." })
  cursor!: string;
  @Field(() => VerificationAttempt, { description: "The attempt." })
  node!: VerificationAttempt;
}

@ObjectType({ description: "Relay page information." })
export class PageInfo {
  @Field(() => Boolean, { description: "Whether more items follow this page." })
  hasNextPage!: boolean;
  @Field(() => Boolean, { description: "Forward paging only (first/after): always false, as the Relay spec allows." })
  hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true, description: "Cursor of the first item of the page." })
  startCursor!: string | null;
  @Field(() => String, { nullable: true, description: "Cursor of the last item; pass it as `after` for the next page." })
  endCursor!: string | null;
}

@ObjectType({ description: "A page of the decision log, newest first (a Relay connection)." })
export class VerificationAttemptConnection {
  @Field(() => [VerificationAttemptEdge], { description: "The attempts of this page." })
  edges!: VerificationAttemptEdge[];
  @Field(() => PageInfo, { description: "Where this page is." })
  pageInfo!: PageInfo;

  static from(p: DecisionPage): VerificationAttemptConnection {
    return Object.assign(new VerificationAttemptConnection(), {
      edges: p.edges.map((e) => Object.assign(new VerificationAttemptEdge(), { cursor: e.cursor, node: VerificationAttempt.from(e.node) })),
      pageInfo: Object.assign(new PageInfo(), { hasNextPage: p.hasNextPage, hasPreviousPage: false, startCursor: p.startCursor, endCursor: p.endCursor }),
    });
  }
}

@InputType({ description: "Which attempts to list; every field narrows. Times: `from` inclusive, `until` exclusive." })
export class VerificationAttemptFilter {
  @Field(() => ID, { nullable: true, description: "The service (every service when absent)." })
  serviceId?: string;
  @Field(() => String, { nullable: true, description: "The number, E.164 (e.g. +14155552671)." })
  to?: string;
  @Field(() => String, { nullable: true, description: "Country of the number (ISO alpha-2)." })
  country?: string;
  @Field(() => DecisionKindEnum, { nullable: true, description: "START or CHECK." })
  kind?: DecisionKindEnum;
  @Field(() => DecisionOutcomeEnum, { nullable: true, description: "ALLOWED or BLOCKED." })
  outcome?: DecisionOutcomeEnum;
  @Field(() => String, { nullable: true, description: "The blocking stage, e.g. prefix-guard." })
  stage?: string;
  @Field(() => Int, { nullable: true, description: "The error code, e.g. 60410." })
  errorCode?: number;
  @Field(() => ID, { nullable: true, description: "The verification (VE…)." })
  verificationId?: string;
  @Field(() => ChannelEnum, { nullable: true, description: "SMS or CALL." })
  channel?: ChannelEnum;
  @Field(() => Boolean, { nullable: true, description: "Only starts whose verification was (true) or was not (false) approved later." })
  converted?: boolean;
  @Field(() => Date, { nullable: true, description: "Decided at or after this time." })
  from?: Date;
  @Field(() => Date, { nullable: true, description: "Decided before this time." })
  until?: Date;
}
