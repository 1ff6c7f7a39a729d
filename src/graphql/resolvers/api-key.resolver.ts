import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import { AppError, invalidParameter } from "../../errors.js";
import { assertText, TEXT_LIMITS } from "../../text-rules.js";
import type { GraphQLContext } from "../context.js";
import { ApiKey, ApiKeyRevocation, CreatedApiKey, OutboxMessage } from "../types/api-key.js";
import { RoleEnum } from "../types/enums.js";

@Resolver()
export class ApiKeyResolver {
  @Mutation(() => CreatedApiKey, {
    description: "Create a key (admin). A CLIENT key needs serviceId and may only start, check and read that service's verifications.",
  })
  async createApiKey(
    @Arg("role", () => RoleEnum, { description: "ADMIN or CLIENT." }) role: RoleEnum,
    @Arg("serviceId", () => ID, { nullable: true, description: "The one service a CLIENT key may use (required for CLIENT)." }) serviceId: string | undefined,
    @Arg("name", () => String, { nullable: true, description: "A label, e.g. web-frontend (at most 100 characters)." }) name: string | undefined,
    @Arg("expiresAt", () => Date, { nullable: true, description: "When the key stops working (in the future); none by default." }) expiresAt: Date | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CreatedApiKey> {
    requireAdmin(ctx.caller);
    if (role === RoleEnum.CLIENT && !serviceId) throw new AppError("INVALID_PARAMETER", "serviceId: required for a CLIENT key", { detail: { field: "serviceId" } });
    if (role === RoleEnum.ADMIN && serviceId) throw new AppError("INVALID_PARAMETER", "serviceId: ADMIN keys are not bound to a service", { detail: { field: "serviceId" } });
    assertText("name", name, { max: TEXT_LIMITS.label });
    if (expiresAt && expiresAt.getTime() <= ctx.app.clock.now()) throw invalidParameter("expiresAt", "must be in the future");
    if (serviceId) await ctx.app.services.get(serviceId);
    const { key, row } = await ctx.app.apiKeys.create(role, serviceId ?? null, name ?? null, expiresAt?.getTime() ?? null);
    return Object.assign(new CreatedApiKey(), { apiKey: ApiKey.from(row), secret: key });
  }

  @Mutation(() => ApiKeyRevocation, {
    description:
      "Revoke a key (admin): it stops working at once, and its running subscriptions end within seconds. Revoking a revoked key changes nothing and says so (alreadyRevoked); an unknown id answers 20404.",
  })
  async revokeApiKey(@Arg("id", () => ID, { description: "The key (VK…)." }) id: string, @Ctx() ctx: GraphQLContext): Promise<ApiKeyRevocation> {
    requireAdmin(ctx.caller);
    if (id === ctx.caller?.keyId) throw invalidParameter("id", "a key cannot revoke itself");
    const { row, alreadyRevoked } = await ctx.app.apiKeys.revoke(id);
    return Object.assign(new ApiKeyRevocation(), { apiKey: ApiKey.from(row), alreadyRevoked });
  }

  @Query(() => [ApiKey], { description: "Keys, optionally of one service (admin). Secrets are never listed." })
  async apiKeys(@Arg("serviceId", () => ID, { nullable: true, description: "Only the keys of this service." }) serviceId: string | undefined, @Ctx() ctx: GraphQLContext): Promise<ApiKey[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.apiKeys.list(serviceId)).map(ApiKey.from);
  }

  @Query(() => String, {
    description: "This instance's account SID (AC…, admin): the username of the Twilio-compatible REST API under /v2, with an API key as the password.",
  })
  accountSid(@Ctx() ctx: GraphQLContext): string {
    requireAdmin(ctx.caller);
    return ctx.app.apiKeys.accountSid;
  }

  @Query(() => [OutboxMessage], {
    description: "Messages the development outbox holds, newest first (admin). Empty when Twilio delivers.",
  })
  async outboxMessages(@Arg("to", () => String, { nullable: true, description: "Only messages to this number (E.164)." }) to: string | undefined, @Ctx() ctx: GraphQLContext): Promise<OutboxMessage[]> {
    requireAdmin(ctx.caller);
    return (ctx.app.outbox?.list(to) ?? []).map((m) => Object.assign(new OutboxMessage(), { ...m, at: new Date(m.at) }));
  }
}
