import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import type { VerifyPubSub } from "../events/pubsub.js";
import { ApiKeyResolver } from "./resolvers/api-key.resolver.js";
import { ConsentResolver } from "./resolvers/consent.resolver.js";
import { FraudResolver } from "./resolvers/fraud.resolver.js";
import { LimitsResolver } from "./resolvers/limits.resolver.js";
import { OperationsResolver } from "./resolvers/operations.resolver.js";
import { PrivacyResolver } from "./resolvers/privacy.resolver.js";
import { RetentionResolver } from "./resolvers/retention.resolver.js";
import { ServiceResolver } from "./resolvers/service.resolver.js";
import { StatsResolver } from "./resolvers/stats.resolver.js";
import { SubscriptionResolver } from "./resolvers/subscription.resolver.js";
import { VerificationResolver } from "./resolvers/verification.resolver.js";

/** Every resolver class; a feature adds its resolver here. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const resolvers: NonEmptyArray<Function> = [ServiceResolver, VerificationResolver, ApiKeyResolver, LimitsResolver, FraudResolver, StatsResolver, SubscriptionResolver, ConsentResolver, OperationsResolver, PrivacyResolver, RetentionResolver];

/** Builds the executable schema once at start-up (never per request). */
export function buildVerifySchema(pubSub: VerifyPubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    pubSub: pubSub as never,
    validate: false,
    emitSchemaFile: false,
  });
}
