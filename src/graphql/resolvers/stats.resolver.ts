import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import type { GraphQLContext } from "../context.js";
import { VerificationAttemptConnection, VerificationAttemptFilter } from "../types/attempts.js";
import { ChannelEnum } from "../types/enums.js";
import { SpendShare } from "../types/limits.js";
import { FraudStats, FraudStatsRow, StatsDimensionEnum, VerificationAttemptsSummary } from "../types/stats.js";

/**
 * Query costs (graphql/cost.ts adds them up per request; the default limit is 5000). They follow the
 * database work: a report's totals, rows and group count share two reads of the roll-ups, priced on
 * `fraudStats` itself; each top list is one more (smaller) read; a page of the log is one index range.
 * So one request holds at most a couple of full reports, and SQLite (synchronous) is never asked for
 * more than a few hundred milliseconds of work by one request.
 */
const REPORT_COST = 1000;
const TOP_LIST_COST = 500;
const SUMMARY_COST = 250;
const LOG_PAGE_COST = 100;

/** The admin's fraud view: statistics, the decision log and the conversion summary (admin keys only). */
@Resolver(() => FraudStats)
export class StatsResolver {
  @Query(() => FraudStats, {
    description:
      "Fraud statistics of a time range (admin): counters grouped by country, prefix, stage, error code, channel, hour or day; top blocked prefixes and countries; sends the guard prevented and the money that saved.",
    complexity: REPORT_COST,
  })
  async fraudStats(
    @Arg("serviceId", () => ID, { nullable: true, description: "One service, or every service when absent." }) serviceId: string | undefined,
    @Arg("from", () => Date, { description: "Start of the range (inclusive)." }) from: Date,
    @Arg("until", () => Date, { description: "End of the range (exclusive). At most 400 days after from (31 with HOUR)." }) until: Date,
    @Arg("groupBy", () => [StatsDimensionEnum], { defaultValue: [], description: "Up to three dimensions; none = one row for the whole range." })
    groupBy: StatsDimensionEnum[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<FraudStats> {
    requireAdmin(ctx.caller);
    return FraudStats.from(await ctx.app.stats.report({ serviceId: serviceId ?? null, from: from.getTime(), until: until.getTime(), groupBy }));
  }

  @FieldResolver(() => FraudStatsRow, { description: "Every decision of the range in one row." })
  async totals(@Root() s: FraudStats): Promise<FraudStatsRow> {
    return FraudStatsRow.from(await s.report.totals());
  }

  @FieldResolver(() => [FraudStatsRow], {
    description: "The groups: in time order when grouped by HOUR or DAY, then by attempts, largest first.",
  })
  async rows(@Root() s: FraudStats, @Arg("limit", () => Int, { defaultValue: 100, description: "1 to 1000." }) limit: number): Promise<FraudStatsRow[]> {
    return (await s.report.rows(limit)).map(FraudStatsRow.from);
  }

  @FieldResolver(() => Int, { description: "How many groups there are (rows returns at most `limit`)." })
  async groupCount(@Root() s: FraudStats): Promise<number> {
    return s.report.groupCount();
  }

  @FieldResolver(() => [SpendShare], {
    description:
      "Estimated spend per budget share (PROTECTED, then CAPPED) over the UTC days the range touches (whole days: the ledger is daily). limitUsd is null here.",
  })
  async spend(@Root() s: FraudStats): Promise<SpendShare[]> {
    return (await s.report.spendByShare()).map((x) => ({ ...x, limitUsd: null }));
  }

  @FieldResolver(() => [FraudStatsRow], {
    description: "Prefixes (with their country) with the most blocked decisions; their counters count blocked decisions only.",
    complexity: TOP_LIST_COST,
  })
  async topBlockedPrefixes(@Root() s: FraudStats, @Arg("limit", () => Int, { defaultValue: 10, description: "1 to 100." }) limit: number): Promise<FraudStatsRow[]> {
    return (await s.report.topBlockedPrefixes(limit)).map(FraudStatsRow.from);
  }

  @FieldResolver(() => [FraudStatsRow], {
    description: "Countries with the most blocked decisions; their counters count blocked decisions only.",
    complexity: TOP_LIST_COST,
  })
  async topBlockedCountries(@Root() s: FraudStats, @Arg("limit", () => Int, { defaultValue: 10, description: "1 to 100." }) limit: number): Promise<FraudStatsRow[]> {
    return (await s.report.topBlockedCountries(limit)).map(FraudStatsRow.from);
  }

  @Query(() => VerificationAttemptConnection, {
    description: "The decision log (admin): every start and check the risk pipeline judged, newest first, as a Relay connection.",
    complexity: LOG_PAGE_COST,
  })
  async verificationAttempts(
    @Arg("filter", () => VerificationAttemptFilter, { nullable: true, description: "Which attempts; every field narrows." }) filter: VerificationAttemptFilter | undefined,
    @Arg("first", () => Int, { defaultValue: 20, description: "Page size, 1 to 100." }) first: number,
    @Arg("after", () => String, { nullable: true, description: "The endCursor of the previous page." }) after: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<VerificationAttemptConnection> {
    requireAdmin(ctx.caller);
    const f = filter ?? {};
    const page = await ctx.app.decisionLog.page({ ...f, from: f.from?.getTime(), until: f.until?.getTime() }, first, after);
    return VerificationAttemptConnection.from(page);
  }

  @Query(() => VerificationAttemptsSummary, {
    description: "Twilio's Verification Attempts Summary (admin): sends and how many were converted, optionally for one service, range and country.",
    complexity: SUMMARY_COST,
  })
  async verificationAttemptsSummary(
    @Arg("serviceId", () => ID, { nullable: true, description: "One service, or every service when absent." }) serviceId: string | undefined,
    @Arg("from", () => Date, { nullable: true, description: "Sends at or after this time (default: the beginning)." }) from: Date | undefined,
    @Arg("until", () => Date, { nullable: true, description: "Sends before this time (default: no end)." }) until: Date | undefined,
    @Arg("country", () => String, { nullable: true, description: "Destination country (ISO alpha-2)." }) country: string | undefined,
    @Arg("channel", () => ChannelEnum, { nullable: true, description: "SMS or CALL." }) channel: ChannelEnum | undefined,
    @Arg("destinationPrefix", () => String, { nullable: true, description: "Numbers starting with this, e.g. +44 (at most calling code and 3 digits)." }) destinationPrefix: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<VerificationAttemptsSummary> {
    requireAdmin(ctx.caller);
    const summary = await ctx.app.stats.summary({ serviceId: serviceId ?? null, from: from?.getTime() ?? null, until: until?.getTime() ?? null, country: country ?? null, channel: channel ?? null, destinationPrefix: destinationPrefix ?? null });
    return VerificationAttemptsSummary.from(summary);
  }
}
