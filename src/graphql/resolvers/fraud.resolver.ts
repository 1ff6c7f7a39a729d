import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import type { GraphQLContext } from "../context.js";
import {
  BlockedPrefix,
  FraudSettings,
  GeoPermissionEntry,
  GeoPermissionInput,
  ProtectionLevelEnum,
  SafeNumber,
} from "../types/fraud.js";

/** Admin operations of the fraud stages (safe list, geo permissions, blocked prefixes, fraud guard, shadow mode). */
@Resolver()
export class FraudResolver {
  @Mutation(() => SafeNumber, {
    description: "Trust a number, or a range of 1,000 numbers: they skip geo permissions, the prefix guard and the signals, never the rate limits (admin).",
  })
  async addSafeNumber(
    @Arg("number", () => String, { description: "E.164, e.g. +14155552671, or a 1,000-number range with its last three digits xxx, e.g. +14155552xxx." }) number: string,
    @Arg("note", () => String, { nullable: true, description: "Why it is trusted (up to 200 characters)." }) note: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SafeNumber> {
    requireAdmin(ctx.caller);
    return SafeNumber.from(await ctx.app.fraud.addSafeNumber(number, note ?? null));
  }

  @Mutation(() => Boolean, { description: "Stop trusting a number or range (admin). False when it was not on the list." })
  async removeSafeNumber(@Arg("number", () => String, { description: "E.164, or a range as added (+14155552xxx)." }) number: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.caller);
    return ctx.app.fraud.removeSafeNumber(number);
  }

  @Query(() => [SafeNumber], { description: "The safe list, oldest first (admin)." })
  async safeNumbers(@Ctx() ctx: GraphQLContext): Promise<SafeNumber[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.fraud.listSafeNumbers()).map(SafeNumber.from);
  }

  @Query(() => [GeoPermissionEntry], {
    description: "A service's geo permissions that are not the MONITOR default: the shipped high-risk BLOCKs and every admin choice (admin). Unlisted destinations are MONITOR.",
  })
  async geoPermissions(@Arg("serviceId", () => ID, { description: "The service." }) serviceId: string, @Ctx() ctx: GraphQLContext): Promise<GeoPermissionEntry[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.fraud.geoPermissions(serviceId)).map(GeoPermissionEntry.from);
  }

  @Mutation(() => [GeoPermissionEntry], { description: "Set geo permissions per country and channel, all or nothing (admin). Returns the service's list as geoPermissions does." })
  async setGeoPermissions(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("permissions", () => [GeoPermissionInput], { description: "1 to 1000 entries; a later entry for the same country and channel wins." }) permissions: GeoPermissionInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<GeoPermissionEntry[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.fraud.setGeoPermissions(serviceId, permissions.map((p) => ({ ...p })))).map(GeoPermissionEntry.from);
  }

  @Mutation(() => [GeoPermissionEntry], { description: "Return countries to their default permissions (admin)." })
  async resetGeoPermissions(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("countries", () => [String], { nullable: true, description: "Countries to reset; all when omitted." }) countries: string[] | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<GeoPermissionEntry[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.fraud.resetGeoPermissions(serviceId, countries ?? null)).map(GeoPermissionEntry.from);
  }

  @Mutation(() => BlockedPrefix, { description: "Block a number prefix, globally or for one service, optionally until a time (admin). Replaces an entry with the same scope and prefix." })
  async blockPrefix(
    @Arg("prefix", () => String, { description: "+ and 1 to 15 digits, e.g. +2217." }) prefix: string,
    @Arg("serviceId", () => ID, { nullable: true, description: "The service; omitted = every service." }) serviceId: string | undefined,
    @Arg("reason", () => String, { description: "Why (1 to 200 characters)." }) reason: string,
    @Arg("expiresAt", () => Date, { nullable: true, description: "When the block lapses; omitted = until unblocked." }) expiresAt: Date | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<BlockedPrefix> {
    requireAdmin(ctx.caller);
    return BlockedPrefix.from(await ctx.app.fraud.blockPrefix({ prefix, serviceId: serviceId ?? null, reason, expiresAt: expiresAt ? expiresAt.getTime() : null }));
  }

  @Mutation(() => Boolean, { description: "Lift a block, MANUAL or AUTO (admin); the detector then judges the prefix afresh. False when there was none." })
  async unblockPrefix(
    @Arg("prefix", () => String, { description: "The blocked prefix, exactly as listed." }) prefix: string,
    @Arg("serviceId", () => ID, { nullable: true, description: "The service of the entry; omitted = the global entry." }) serviceId: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    requireAdmin(ctx.caller);
    return ctx.app.fraud.unblockPrefix(prefix, serviceId ?? null);
  }

  @Mutation(() => Boolean, {
    description:
      "Lift the SMS-pumping detector's automatic block of a whole country for a service (admin); the detector then judges the country afresh. False when there was none.",
  })
  async unblockCountry(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("country", () => String, { description: "The blocked country (ISO alpha-2), as blockedPrefixes lists it." }) country: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    requireAdmin(ctx.caller);
    return ctx.app.fraud.unblockCountry(serviceId, country);
  }

  @Query(() => [BlockedPrefix], { description: "Blocks in force: those that apply to a service (its own and global ones), or every one (admin)." })
  async blockedPrefixes(
    @Arg("serviceId", () => ID, { nullable: true, description: "The service; omitted = every entry." }) serviceId: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<BlockedPrefix[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.fraud.blockedPrefixes(serviceId ?? null)).map(BlockedPrefix.from);
  }

  @Query(() => FraudSettings, { description: "A service's protection level and shadowed stages (admin)." })
  async fraudSettings(@Arg("serviceId", () => ID, { description: "The service." }) serviceId: string, @Ctx() ctx: GraphQLContext): Promise<FraudSettings> {
    requireAdmin(ctx.caller);
    return FraudSettings.from(await ctx.app.fraud.settings(serviceId));
  }

  @Mutation(() => FraudSettings, { description: "Set the SMS-pumping detector's protection level for a service (admin)." })
  async setFraudGuard(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("level", () => ProtectionLevelEnum, { description: "BASIC, STANDARD (default) or MAX." }) level: ProtectionLevelEnum,
    @Ctx() ctx: GraphQLContext,
  ): Promise<FraudSettings> {
    requireAdmin(ctx.caller);
    return FraudSettings.from(await ctx.app.fraud.setProtectionLevel(serviceId, level));
  }

  @Mutation(() => FraudSettings, {
    description: "Put stages of a service in shadow mode: they record what they would block and let requests through (admin). Replaces the list; [] enforces every stage.",
  })
  async setShadowStages(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("stages", () => [String], { description: "Stage names, e.g. [\"prefix-guard\", \"signals\"]; see FraudSettings.shadowableStages." }) stages: string[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<FraudSettings> {
    requireAdmin(ctx.caller);
    return FraudSettings.from(await ctx.app.fraud.setShadowStages(serviceId, stages));
  }
}
