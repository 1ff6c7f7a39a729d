import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { WatchEvent } from "../../verification/watch.js";
import type { GraphQLContext } from "../context.js";
import { VerificationEvent } from "../types/events.js";

type Watch<A> = SubscribeResolverData<unknown, A, GraphQLContext>;

/**
 * Live status over graphql-ws (same port and path as queries; the key goes in `connection_init` as
 * `{ authorization: "Bearer …" }`). Access is checked in `subscribe`, before anything listens:
 * an error there ends that one subscription with a GraphQL error, and the socket stays open.
 */
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => VerificationEvent, {
    description:
      "One verification's status changes: sent, resent, delivery status, approved, check failed, canceled, max attempts, expired, failed. Admin, or a client key of its service (any other id answers 20404, like an unknown one). The first message is SUBSCRIBED with the current status.",
    complexity: 10,
    subscribe: ({ args, context }: Watch<{ verificationId: string }>) => context.app.watcher.verification(context.caller, args.verificationId),
  })
  verificationUpdated(
    @Root() event: WatchEvent,
    @Arg("verificationId", () => ID, { description: "The verification to watch." }) _verificationId: string,
  ): VerificationEvent {
    return VerificationEvent.from(event);
  }

  @Subscription(() => VerificationEvent, {
    description:
      "Every status change and every risk block of a service as it happens (admin keys only; 20403 for client keys). Risk blocks carry stage, errorCode and country, never the number. The first message is SUBSCRIBED.",
    complexity: 10,
    subscribe: ({ args, context }: Watch<{ serviceId: string }>) => context.app.watcher.service(context.caller, args.serviceId),
  })
  verificationEvents(@Root() event: WatchEvent, @Arg("serviceId", () => ID, { description: "The service to watch." }) _serviceId: string): VerificationEvent {
    return VerificationEvent.from(event);
  }
}
