import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import type { GraphQLContext } from "../context.js";
import { ServiceRetention, StoreStatus } from "../types/retention.js";

/** The retention (admin): thin over retention/admin.ts. */
@Resolver()
export class RetentionResolver {
  @Query(() => StoreStatus, { description: "The store's size on disk, the retention's last purge and the deployment's horizons (admin)." })
  async storeStatus(@Ctx() ctx: GraphQLContext): Promise<StoreStatus> {
    requireAdmin(ctx.caller);
    return StoreStatus.from(await ctx.app.retention.status(), ctx.app.retention.policy);
  }

  @Query(() => ServiceRetention, { description: "A service's retention as it applies: its own horizons, or the deployment's (admin)." })
  async serviceRetention(@Arg("serviceId", () => ID, { description: "The service." }) serviceId: string, @Ctx() ctx: GraphQLContext): Promise<ServiceRetention> {
    requireAdmin(ctx.caller);
    return ServiceRetention.from(await ctx.app.retention.get(serviceId));
  }

  @Mutation(() => ServiceRetention, {
    description:
      "Set a service's own retention (admin), in days: how long its verifications and decisions keep the number, and how long its raw decisions, verifications and send attempts are kept. null = the deployment's; absent = unchanged. Anonymization cannot be undone: lengthening a horizon keeps what was already anonymized.",
  })
  async setServiceRetention(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("numbersDays", () => Int, { nullable: true, description: "1 to 3650, or null for the deployment's (RETENTION_NUMBERS)." }) numbersDays: number | null | undefined,
    @Arg("rawDays", () => Int, { nullable: true, description: "1 to 3650, or null for the deployment's (RETENTION_RAW)." }) rawDays: number | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ServiceRetention> {
    requireAdmin(ctx.caller);
    return ServiceRetention.from(await ctx.app.retention.set(serviceId, { numbersDays, rawDays }));
  }
}
