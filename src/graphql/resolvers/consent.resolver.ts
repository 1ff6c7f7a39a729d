import { Arg, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import type { GraphQLContext } from "../context.js";
import { ConsentRecord, ConsentRecordPage } from "../types/consent.js";

/** Reads the consent evidence (admin). GET /admin/consent-records.csv and .json export the same rows. */
@Resolver()
export class ConsentResolver {
  @Query(() => ConsentRecordPage, {
    description: "Consent records (admin), oldest first: of one number, one service and/or a time range of when they were recorded.",
    complexity: 100,
  })
  async consentRecords(
    @Arg("to", () => String, { nullable: true, description: "The number (E.164)." }) to: string | undefined,
    @Arg("serviceId", () => ID, { nullable: true, description: "Only this service's." }) serviceId: string | undefined,
    @Arg("from", () => Date, { nullable: true, description: "Recorded at or after." }) from: Date | undefined,
    @Arg("until", () => Date, { nullable: true, description: "Recorded before." }) until: Date | undefined,
    @Arg("first", () => Int, { defaultValue: 100, description: "Page size, 1 to 1000." }) first: number,
    @Arg("after", () => String, { nullable: true, description: "The previous page's nextCursor." }) after: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ConsentRecordPage> {
    requireAdmin(ctx.caller);
    const page = await ctx.app.consent.list({ to, serviceId, from: from?.getTime(), until: until?.getTime() }, first, after);
    return Object.assign(new ConsentRecordPage(), { records: page.records.map(ConsentRecord.from), nextCursor: page.nextCursor });
  }
}
