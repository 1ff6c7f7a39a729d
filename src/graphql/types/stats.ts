import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { AttemptsSummary, FraudReport, FraudStatsRow as Row } from "../../stats/fraud-stats.js";
import { ChannelEnum } from "./enums.js";

export enum StatsDimensionEnum {
  COUNTRY = "COUNTRY",
  PREFIX = "PREFIX",
  STAGE = "STAGE",
  ERROR_CODE = "ERROR_CODE",
  CHANNEL = "CHANNEL",
  HOUR = "HOUR",
  DAY = "DAY",
}
registerEnumType(StatsDimensionEnum, {
  name: "StatsDimension",
  description: "What fraud statistics are grouped by. HOUR and DAY are UTC. PREFIX combines with DAY, not HOUR (prefixes are rolled up per day).",
  valuesConfig: {
    COUNTRY: { description: "Destination country (ISO alpha-2)." },
    PREFIX: { description: "Number prefix: calling code and the first three national digits, e.g. +44741." },
    STAGE: { description: "The risk stage that blocked (null for allowed decisions)." },
    ERROR_CODE: { description: "The error code a blocked caller got, e.g. 60410." },
    CHANNEL: { description: "SMS or CALL." },
    HOUR: { description: "Hour (UTC); ranges up to 31 days." },
    DAY: { description: "Day (UTC)." },
  },
});

@ObjectType({ description: "Counters of one group of risk decisions (every field not grouped by is null)." })
export class FraudStatsRow {
  @Field(() => String, { nullable: true, description: "Country, when grouped by COUNTRY (or a top-blocked list)." })
  country!: string | null;
  @Field(() => String, { nullable: true, description: "Prefix, when grouped by PREFIX." })
  prefix!: string | null;
  @Field(() => String, { nullable: true, description: "Blocking stage, when grouped by STAGE (null = allowed)." })
  stage!: string | null;
  @Field(() => Int, { nullable: true, description: "Error code, when grouped by ERROR_CODE (null = allowed)." })
  errorCode!: number | null;
  @Field(() => ChannelEnum, { nullable: true, description: "Channel, when grouped by CHANNEL." })
  channel!: ChannelEnum | null;
  @Field(() => Date, { nullable: true, description: "Start of the hour, when grouped by HOUR." })
  hour!: Date | null;
  @Field(() => Date, { nullable: true, description: "Start of the UTC day, when grouped by DAY." })
  day!: Date | null;
  @Field(() => Int, { description: "Requests the risk pipeline judged: starts and checks." })
  attempts!: number;
  @Field(() => Int, { description: "Of those, allowed." })
  allowed!: number;
  @Field(() => Int, { description: "Of those, blocked." })
  blocked!: number;
  @Field(() => Int, { description: "Codes sent: allowed starts (first sends and resends)." })
  sends!: number;
  @Field(() => Int, { description: "Checks judged (allowed and blocked)." })
  checks!: number;
  @Field(() => Int, { description: "Sends whose verification was approved later (Twilio's converted attempts)." })
  converted!: number;
  @Field(() => Int, { description: "Verifications approved, each counted once, in the group of its first send." })
  approvals!: number;
  @Field(() => Float, { nullable: true, description: "converted / sends × 100 (2 decimals); null when nothing was sent." })
  conversionRatePercentage!: number | null;
  @Field(() => Int, { description: "Sends the guard prevented: blocked starts, except invalid numbers (60200), which could not be sent anyway." })
  preventedSends!: number;
  @Field(() => Float, { description: "What the prevented sends would have cost, in USD, at the price per country and channel of the price table (`prices`, `setPrice`)." })
  savedUsd!: number;
  @Field(() => Int, { description: "Allowed decisions a stage in shadow mode would have blocked." })
  shadowBlocked!: number;

  static from(r: Row): FraudStatsRow {
    return Object.assign(new FraudStatsRow(), {
      country: r.country,
      prefix: r.prefix,
      stage: r.stage,
      errorCode: r.errorCode,
      channel: r.channel as ChannelEnum | null,
      hour: r.hour === null ? null : new Date(r.hour),
      day: r.day === null ? null : new Date(r.day),
      attempts: r.decisions,
      allowed: r.allowed,
      blocked: r.blocked,
      sends: r.sends,
      checks: r.checks,
      converted: r.converted,
      approvals: r.approvals,
      conversionRatePercentage: r.conversionRatePercentage,
      preventedSends: r.prevented,
      savedUsd: r.savedUsd,
      shadowBlocked: r.shadowed,
    });
  }
}

@ObjectType({ description: "The fraud view of a time range: totals, groups, top blocked prefixes and countries. Each part is computed only when selected." })
export class FraudStats {
  @Field(() => ID, { nullable: true, description: "The service, or null for every service." })
  serviceId!: string | null;
  @Field(() => Date, { description: "Start of the range (inclusive)." })
  from!: Date;
  @Field(() => Date, { description: "End of the range (exclusive)." })
  until!: Date;
  @Field(() => [StatsDimensionEnum], { description: "What the rows are grouped by." })
  groupBy!: StatsDimensionEnum[];

  /** The domain report the field resolvers read (not part of the schema). */
  report!: FraudReport;

  static from(report: FraudReport): FraudStats {
    const { serviceId, from, until, groupBy } = report.input;
    return Object.assign(new FraudStats(), { serviceId, from: new Date(from), until: new Date(until), groupBy: groupBy as StatsDimensionEnum[], report });
  }
}

@ObjectType({ description: "Twilio's Verification Attempts Summary: sends (allowed starts) and how many were converted (approved)." })
export class VerificationAttemptsSummary {
  @Field(() => Int, { description: "Codes sent (first sends and resends). Blocked starts are not attempts here; see fraudStats." })
  totalAttempts!: number;
  @Field(() => Int, { description: "Sends whose verification was approved." })
  totalConverted!: number;
  @Field(() => Int, { description: "Sends whose verification was not (or not yet) approved." })
  totalUnconverted!: number;
  @Field(() => Float, { nullable: true, description: "totalConverted / totalAttempts × 100 (2 decimals); null when nothing was sent." })
  conversionRatePercentage!: number | null;

  static from(s: AttemptsSummary): VerificationAttemptsSummary {
    return Object.assign(new VerificationAttemptsSummary(), s);
  }
}
