import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { requireAdmin, requireServiceAccess } from "../../auth/keys.js";
import { AppError, invalidParameter } from "../../errors.js";
import type { VerificationRow } from "../../store/types.js";
import { lookupOf } from "../../verification/rules.js";
import type { GraphQLContext } from "../context.js";
import { OPERATION_COST } from "../cost.js";
import { ChannelEnum, RiskCheckEnum } from "../types/enums.js";
import { ApprovalTokenRedemption, CheckVerificationInput, Lookup, StartVerificationInput, Verification, VerificationCheck } from "../types/verification.js";

@Resolver(() => Verification)
export class VerificationResolver {
  @Mutation(() => Verification, {
    description: "Send a code (or resend the pending one for the same number). Passes the risk pipeline first.",
    complexity: OPERATION_COST,
  })
  async startVerification(@Arg("input", () => StartVerificationInput, { description: "Who to verify, and how." }) input: StartVerificationInput, @Ctx() ctx: GraphQLContext): Promise<Verification> {
    const caller = requireServiceAccess(ctx.caller, input.serviceId);
    const v = await ctx.app.lifecycle.start(
      {
        serviceId: input.serviceId,
        to: input.to,
        channel: input.channel,
        countryHint: input.country,
        locale: input.locale,
        customCode: input.customCode,
        amount: input.amount,
        payee: input.payee,
        riskCheck: input.riskCheck !== RiskCheckEnum.DISABLE,
        tags: Object.fromEntries((input.tags ?? []).map((t) => [t.key, t.value])),
        rateLimitValues: Object.fromEntries((input.rateLimits ?? []).map((r) => [r.uniqueName, r.value])),
        customFriendlyName: input.customFriendlyName,
        deviceIp: input.deviceIp,
        consent: input.consent ? { textVersion: input.consent.textVersion, agreedAt: input.consent.agreedAt.getTime(), userAgent: input.consent.userAgent } : null,
      },
      { caller, ip: ctx.ip },
    );
    return this.view(ctx, v);
  }

  @Mutation(() => VerificationCheck, {
    description: "Check a code. A wrong code counts an attempt; a final verification answers 20404.",
    complexity: OPERATION_COST,
  })
  async checkVerification(@Arg("input", () => CheckVerificationInput, { description: "The code and what it answers for." }) input: CheckVerificationInput, @Ctx() ctx: GraphQLContext): Promise<VerificationCheck> {
    const caller = requireServiceAccess(ctx.caller, input.serviceId);
    const { verification: v, valid, approvalToken } = await ctx.app.lifecycle.check({ ...input }, { caller, ip: ctx.ip });
    return Object.assign(new VerificationCheck(), {
      id: v.id,
      serviceId: v.serviceId,
      to: v.to,
      channel: v.channel,
      status: v.status,
      valid,
      dateUpdated: new Date(v.updatedAt),
      approvalToken,
    });
  }

  @Mutation(() => ApprovalTokenRedemption, {
    description:
      "Accepts an approval token once (admin: your backend). Verifying a token offline needs no call; this is for backends that want single use. A second redemption answers APPROVAL_TOKEN_USED; an invalid, expired or other service's token APPROVAL_TOKEN_INVALID.",
  })
  async redeemApprovalToken(
    @Arg("token", () => String, { description: "The approvalToken checkVerification returned." }) token: string,
    @Arg("serviceId", () => ID, { nullable: true, description: "When given, the token must be for this service (its `aud`)." }) serviceId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ApprovalTokenRedemption> {
    requireAdmin(ctx.caller);
    if (token.length > 4096) throw new AppError("APPROVAL_TOKEN_INVALID");
    const c = await ctx.app.approvals.redeem(token, serviceId);
    return Object.assign(new ApprovalTokenRedemption(), {
      serviceId: c.serviceId,
      verificationId: c.verificationId,
      to: c.to,
      channel: c.channel as ChannelEnum,
      approvedAt: new Date(c.approvedAt),
      expiresAt: new Date(c.expiresAt),
    });
  }

  @Mutation(() => Verification, {
    description: "Cancel a pending verification (admin): its code stops working. A final one answers 20404.",
  })
  async cancelVerification(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("id", () => ID, { description: "The verification (VE…)." }) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Verification> {
    // Publishable CLIENT keys may only start, check and read (issue 2); cancelling is a backend's call.
    requireAdmin(ctx.caller);
    return this.view(ctx, await ctx.app.lifecycle.cancel(serviceId, id));
  }

  @Mutation(() => Verification, {
    description: "Approve a pending verification without a code (admin), for a user verified some other way. A final one answers 20404.",
  })
  async approveVerification(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("id", () => ID, { description: "The verification (VE…)." }) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Verification> {
    requireAdmin(ctx.caller);
    return this.view(ctx, await ctx.app.lifecycle.approve(serviceId, { id }));
  }

  @Query(() => Verification, {
    description:
      "One verification of a service, by id or by the number of its pending one (admin, or a client key of that service). Unknown, another service's, or nothing pending for the number: 20404.",
    complexity: OPERATION_COST,
  })
  async verification(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("id", () => ID, { nullable: true, description: "The verification (VE…)." }) id: string | undefined,
    @Arg("to", () => String, { nullable: true, description: "Or the number (E.164) of the pending verification." }) to: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Verification> {
    requireServiceAccess(ctx.caller, serviceId);
    if ((id == null) === (to == null)) throw invalidParameter("id", "pass either id or to");
    return this.view(ctx, await ctx.app.lifecycle.find(serviceId, id != null ? { id } : { to: to! }));
  }

  @FieldResolver(() => Lookup, { description: "Country and line type of the number (both null when the service's lookupEnabled is off)." })
  async lookup(@Root() v: Verification, @Ctx() ctx: GraphQLContext): Promise<Lookup> {
    const shown = lookupOf(await ctx.app.services.get(v.serviceId), v.row);
    return Object.assign(new Lookup(), shown ?? { countryCode: null, lineType: null });
  }

  private async view(ctx: GraphQLContext, v: VerificationRow): Promise<Verification> {
    return Verification.from(v, await ctx.app.lifecycle.sendAttempts(v.id));
  }
}
