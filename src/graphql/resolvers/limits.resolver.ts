import { Arg, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import { rateLimitViews } from "../../risk/service-rate-limits.js";
import type { GraphQLContext } from "../context.js";
import { ChannelEnum } from "../types/enums.js";
import { Price, PriceSourceEnum, ServiceRateLimit, ServiceRateLimitInput, ServiceSpend } from "../types/limits.js";
import { Service } from "../types/service.js";

/** Admin operations of the limits and spend stages, and the matching (admin-only) fields of Service. */
@Resolver(() => Service)
export class LimitsResolver {
  @Mutation(() => [ServiceRateLimit], { description: "Replace a service's named rate limits (admin). An empty list removes them." })
  async setRateLimits(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("rateLimits", () => [ServiceRateLimitInput], { description: "At most 10 named limits of up to 5 buckets each." }) rateLimits: ServiceRateLimitInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<ServiceRateLimit[]> {
    requireAdmin(ctx.caller);
    return rateLimitViews(await ctx.app.limits.setRateLimits(serviceId, rateLimits));
  }

  @Mutation(() => ServiceSpend, { description: "Set a service's daily spend budget in US cents (admin); null returns to the default. 0 stops every send." })
  async setDailyBudget(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("cents", () => Int, { nullable: true, description: "0 to 100000000 US cents, or null for SPEND_DAILY_BUDGET_CENTS." }) cents: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ServiceSpend> {
    requireAdmin(ctx.caller);
    const row = await ctx.app.limits.setDailyBudget(serviceId, cents ?? null);
    return ctx.app.limits.spend(row);
  }

  @Mutation(() => ServiceSpend, {
    description:
      "Set the capped share of a service's daily budget (admin): the percent MONITOR, new and unconverted destinations may spend together; null returns to SPEND_CAPPED_SHARE_PERCENT. 0 refuses them all.",
  })
  async setCappedShare(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("percent", () => Int, { nullable: true, description: "0 to 100, or null for the default." }) percent: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ServiceSpend> {
    requireAdmin(ctx.caller);
    const row = await ctx.app.limits.setCappedShare(serviceId, percent ?? null);
    return ctx.app.limits.spend(row);
  }

  @Query(() => ServiceSpend, { description: "A service's estimated spend on one UTC day (admin), in all and per budget share." })
  async serviceSpend(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("day", () => String, { nullable: true, description: "UTC day YYYY-MM-DD; default today." }) day: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ServiceSpend> {
    requireAdmin(ctx.caller);
    return ctx.app.limits.spend(await ctx.app.services.get(serviceId), day ?? undefined);
  }

  @Query(() => [Price], { description: "Every effective price: shipped defaults and admin overrides (admin)." })
  async prices(@Ctx() ctx: GraphQLContext): Promise<Price[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.limits.prices.list()).map(toPrice);
  }

  @Mutation(() => Price, { description: "Set the estimated price of one send to a country on a channel (admin)." })
  async setPrice(
    @Arg("country", () => String, { description: "ISO 3166-1 alpha-2, or * for the fallback." }) country: string,
    @Arg("channel", () => ChannelEnum, { description: "SMS or CALL." }) channel: ChannelEnum,
    @Arg("usd", () => Float, { description: "US dollars per send, 0 to 100." }) usd: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Price> {
    requireAdmin(ctx.caller);
    return toPrice(await ctx.app.limits.prices.set(country, channel, usd, ctx.app.clock.now()));
  }

  @Mutation(() => Price, { description: "Drop an admin price so the shipped default applies again (admin)." })
  async resetPrice(
    @Arg("country", () => String, { description: "ISO 3166-1 alpha-2, or *." }) country: string,
    @Arg("channel", () => ChannelEnum, { description: "SMS or CALL." }) channel: ChannelEnum,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Price> {
    requireAdmin(ctx.caller);
    return toPrice(await ctx.app.limits.prices.reset(country, channel));
  }

  @FieldResolver(() => [ServiceRateLimit], { description: "The service's named rate limits (admin only)." })
  rateLimits(@Root() service: Service, @Ctx() ctx: GraphQLContext): ServiceRateLimit[] {
    requireAdmin(ctx.caller);
    return rateLimitViews(service.row);
  }

  @FieldResolver(() => Int, { description: "The daily spend budget in US cents, the service's own or the default (admin only)." })
  dailyBudgetCents(@Root() service: Service, @Ctx() ctx: GraphQLContext): number {
    requireAdmin(ctx.caller);
    return ctx.app.limits.budgetCents(service.row);
  }
}

function toPrice(p: { country: string; channel: string; usd: number; source: string }): Price {
  return Object.assign(new Price(), { ...p, channel: p.channel as ChannelEnum, source: p.source as PriceSourceEnum });
}
