import { GraphQLJSONObject } from "graphql-scalars";
import { Arg, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import type { GraphQLContext } from "../context.js";
import { Erasure } from "../types/privacy.js";

/** Data-subject requests (admin): thin over privacy/privacy.ts. */
@Resolver()
export class PrivacyResolver {
  @Query(() => GraphQLJSONObject, {
    description:
      "Everything held about a number, across every service and table, as one JSON document (admin; a data-subject access request). Code hashes and sealed codes are left out.",
    complexity: 200,
  })
  async exportNumber(@Arg("to", () => String, { description: "The number (E.164)." }) to: string, @Ctx() ctx: GraphQLContext): Promise<Record<string, unknown>> {
    requireAdmin(ctx.caller);
    return ctx.app.privacy.exportNumber(to);
  }

  @Mutation(() => Erasure, {
    description:
      "Erase a number everywhere (admin; GDPR art. 17): its verifications, send attempts, delivery jobs, webhook deliveries, consent records, safe-list entry and counters are deleted; its risk decisions are kept for the statistics without the number, IP and tags. Audited (see `erasures`) without the number.",
  })
  async eraseNumber(@Arg("to", () => String, { description: "The number (E.164)." }) to: string, @Ctx() ctx: GraphQLContext): Promise<Erasure> {
    const caller = requireAdmin(ctx.caller);
    return Erasure.from(await ctx.app.privacy.eraseNumber(to, caller, ctx.requestId));
  }

  @Query(() => [Erasure], { description: "The audit of erasures, newest first (admin).", complexity: 50 })
  async erasures(
    @Arg("first", () => Int, { defaultValue: 50, description: "How many, 1 to 500." }) first: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Erasure[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.privacy.listErasures(first)).map(Erasure.from);
  }
}
