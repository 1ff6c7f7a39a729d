import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { requireAdmin } from "../../auth/keys.js";
import type { GraphQLContext } from "../context.js";
import { DeliveryAlert, ServiceWebhook, WebhookDelivery, WebhookEventEnum } from "../types/operations.js";

/** Outbound webhooks and delivery alerts (admin): thin over webhooks/ and alerts/. */
@Resolver()
export class OperationsResolver {
  @Mutation(() => ServiceWebhook, {
    description:
      "Set (or replace) a service's webhook (admin). Events go out signed (Standard Webhooks), retried with backoff, in order per verification. The secret is returned on first set and with rotateSecret.",
  })
  async setServiceWebhook(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("url", () => String, { description: "http(s) URL events are POSTed to (https in production)." }) url: string,
    @Arg("events", () => [WebhookEventEnum], { description: "The events to send." }) events: WebhookEventEnum[],
    @Arg("rotateSecret", () => Boolean, { nullable: true, description: "Make a new signing secret (the old one stops at once)." }) rotateSecret: boolean | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ServiceWebhook> {
    requireAdmin(ctx.caller);
    await ctx.app.services.get(serviceId);
    return ServiceWebhook.from(await ctx.app.webhooks.set(serviceId, url, events, rotateSecret ?? false));
  }

  @Mutation(() => Boolean, { description: "Remove a service's webhook (admin); events still queued for it are dropped. False when it had none." })
  async deleteServiceWebhook(@Arg("serviceId", () => ID, { description: "The service." }) serviceId: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.caller);
    return ctx.app.webhooks.remove(serviceId);
  }

  @Query(() => ServiceWebhook, { nullable: true, description: "A service's webhook (admin), without its secret; null when none." })
  async serviceWebhook(@Arg("serviceId", () => ID, { description: "The service." }) serviceId: string, @Ctx() ctx: GraphQLContext): Promise<ServiceWebhook | null> {
    requireAdmin(ctx.caller);
    const e = await ctx.app.webhooks.get(serviceId);
    return e ? ServiceWebhook.from(e) : null;
  }

  @Query(() => [WebhookDelivery], { description: "A service's newest webhook deliveries and their state (admin).", complexity: 100 })
  async webhookDeliveries(
    @Arg("serviceId", () => ID, { description: "The service." }) serviceId: string,
    @Arg("first", () => Int, { nullable: true, description: "How many, newest first (default 50, at most 500)." }) first: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookDelivery[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.webhooks.listDeliveries(serviceId, Math.max(1, Math.min(first ?? 50, 500)))).map(WebhookDelivery.from);
  }

  @Query(() => [DeliveryAlert], { description: "Delivery-rate alerts, open and past, newest first, with their figures (admin).", complexity: 100 })
  async deliveryAlerts(
    @Arg("serviceId", () => ID, { nullable: true, description: "Only this service's." }) serviceId: string | null,
    @Arg("open", () => Boolean, { nullable: true, description: "true: only open; false: only cleared; absent: both." }) open: boolean | null,
    @Arg("first", () => Int, { nullable: true, description: "How many (default 100, at most 500)." }) first: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeliveryAlert[]> {
    requireAdmin(ctx.caller);
    return (await ctx.app.alerts.list({ serviceId, open, limit: Math.max(1, first ?? 100) })).map(DeliveryAlert.from);
  }
}
