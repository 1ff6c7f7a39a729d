import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import type { GraphQLContext } from "../context.js";
import { CreateServiceInput, Service, UpdateServiceInput } from "../types/service.js";

@Resolver(() => Service)
export class ServiceResolver {
  @Mutation(() => Service, { description: "Create a verification service (admin)." })
  async createService(@Arg("input", () => CreateServiceInput, { description: "Name and settings." }) input: CreateServiceInput, @Ctx() ctx: GraphQLContext): Promise<Service> {
    requireAdmin(ctx.caller);
    return Service.from(await ctx.app.services.create({ ...input }));
  }

  @Mutation(() => Service, { description: "Change a service's settings (admin)." })
  async updateService(
    @Arg("id", () => ID, { description: "The service (VA…)." }) id: string,
    @Arg("input", () => UpdateServiceInput, { description: "The settings to change." }) input: UpdateServiceInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Service> {
    requireAdmin(ctx.caller);
    return Service.from(await ctx.app.services.update(id, { ...input }));
  }

  @Mutation(() => Boolean, { description: "Delete a service and its verifications (admin). False when it did not exist." })
  async deleteService(@Arg("id", () => ID, { description: "The service (VA…)." }) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.caller);
    return ctx.app.services.delete(id);
  }

  @Query(() => Service, { description: "One service (admin). Its settings include risk configuration, which publishable keys must not read." })
  async service(@Arg("id", () => ID, { description: "The service (VA…)." }) id: string, @Ctx() ctx: GraphQLContext): Promise<Service> {
    requireAdmin(ctx.caller);
    return Service.from(await ctx.app.services.get(id));
  }

  @Query(() => [Service], { description: "Every service (admin)." })
  async services(@Ctx() ctx: GraphQLContext): Promise<Service[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.services.list()).map(Service.from);
  }
}
