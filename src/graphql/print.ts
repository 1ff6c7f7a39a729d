import { lexicographicSortSchema, printSchema } from "graphql";
import { createEventBus } from "../events/pubsub.js";
import { buildVerifySchema } from "./schema.js";

/** The SDL committed as schema.graphql: sorted, so it only changes when the API does. */
export async function printSchemaFile(): Promise<string> {
  const schema = await buildVerifySchema(createEventBus().pubSub);
  return "# Generated from the type-graphql code by `npm run schema`. Do not edit by hand.\n\n" + printSchema(lexicographicSortSchema(schema)) + "\n";
}
