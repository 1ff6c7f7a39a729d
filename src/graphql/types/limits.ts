import { Field, Float, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { ChannelEnum } from "./enums.js";

export enum PriceSourceEnum {
  DEFAULT = "DEFAULT",
  OVERRIDE = "OVERRIDE",
}
registerEnumType(PriceSourceEnum, {
  name: "PriceSource",
  description: "DEFAULT: the shipped estimate (see the price table in docs/risk.md); OVERRIDE: set by an admin with setPrice.",
});

@ObjectType({ description: "One bucket of a service rate limit: at most `max` starts per `intervalSeconds` for one value." })
export class RateLimitBucket {
  @Field(() => String, { description: "BL + 32 hex: the bucket's SID on the REST API." })
  sid!: string;
  @Field(() => Int, { description: "Starts allowed per interval for one value." })
  max!: number;
  @Field(() => Int, { description: "The sliding window, in seconds (1 to 86400)." })
  intervalSeconds!: number;
}

@ObjectType({ description: "A service's own named rate limit (Twilio's Service Rate Limits), applied to starts that pass a value for it." })
export class ServiceRateLimit {
  @Field(() => String, { description: "RK + 32 hex: the limit's SID on the REST API." })
  sid!: string;
  @Field(() => String, { description: "The name starts refer to, e.g. end_user_id or ip_address." })
  uniqueName!: string;
  @Field(() => String, { nullable: true, description: "What it limits, in the admin's words (set over the REST API)." })
  description!: string | null;
  @Field(() => [RateLimitBucket], { description: "Every bucket must have room for a start to pass." })
  buckets!: RateLimitBucket[];
}

@InputType({ description: "A bucket of a service rate limit." })
export class RateLimitBucketInput {
  @Field(() => Int, { description: "1 to 1000000 starts per interval." })
  max!: number;
  @Field(() => Int, { description: "1 to 86400 seconds." })
  intervalSeconds!: number;
}

@InputType({ description: "A named rate limit with its buckets." })
export class ServiceRateLimitInput {
  @Field(() => String, { description: "1 to 64 of A-Z a-z 0-9 _; unique within the service." })
  uniqueName!: string;
  @Field(() => [RateLimitBucketInput], { description: "Up to 5 buckets (none: the name counts nothing yet)." })
  buckets!: RateLimitBucketInput[];
}

@ObjectType({ description: "Estimated cost of one send to a destination country on a channel." })
export class Price {
  @Field(() => String, { description: "ISO 3166-1 alpha-2, or * for the fallback used by countries without a price." })
  country!: string;
  @Field(() => ChannelEnum, { description: "SMS (one segment) or CALL (one call of about a minute)." })
  channel!: ChannelEnum;
  @Field(() => Float, { description: "US dollars per send." })
  usd!: number;
  @Field(() => PriceSourceEnum, { description: "Shipped default or admin override." })
  source!: PriceSourceEnum;
}

@ObjectType({
  description:
    "What one share of the daily budget spent. PROTECTED: countries at ALLOW, countries where the service's users convert, trusted numbers; they may spend the whole budget. CAPPED: every other destination (MONITOR without a healthy history, new, unconverted), together at most cappedSharePercent of it.",
})
export class SpendShare {
  @Field(() => String, { description: "PROTECTED or CAPPED." })
  share!: string;
  @Field(() => Float, { description: "Estimated US dollars spent." })
  spentUsd!: number;
  @Field(() => Int, { description: "Sends charged." })
  sends!: number;
  @Field(() => Float, { nullable: true, description: "What the share may spend in US dollars (null in statistics over several days or services)." })
  limitUsd!: number | null;
}

@ObjectType({ description: "A service's estimated spend on one UTC day against its daily budget." })
export class ServiceSpend {
  @Field(() => String, { description: "UTC day, YYYY-MM-DD." })
  day!: string;
  @Field(() => Float, { description: "Estimated US dollars spent (price table × sends)." })
  spentUsd!: number;
  @Field(() => Int, { description: "Sends charged that day." })
  sends!: number;
  @Field(() => Float, { description: "The daily budget in US dollars; past it starts get 60606." })
  budgetUsd!: number;
  @Field(() => Int, { description: "Percent of the budget the capped share (MONITOR, new and unconverted destinations) may spend." })
  cappedSharePercent!: number;
  @Field(() => [SpendShare], { description: "The day's spend per share: PROTECTED, then CAPPED." })
  shares!: SpendShare[];
}
