import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The bare baseline: Apollo Server 5 on the same Express 5 integration, body limit and plugins as
 * src/http/server.ts, serving one trivial mutation. Whatever verify-guard spends above this is our
 * own work (auth, risk pipeline, SQLite, crypto); the bench reports every operation as a ratio to it.
 * Runs in its own process (`node dist/bench/baseline-server.js`), like the real server.
 */
const typeDefs = `#graphql
  "What the trivial mutation gets: shaped like a start's input."
  input PingInput {
    "Any service id."
    serviceId: ID!
    "Any number."
    to: String!
    "Any channel."
    channel: String!
  }
  "What it answers."
  type Pong {
    "Echo of a made-up id."
    id: ID!
    "Always PENDING."
    status: String!
    "Echo of the number."
    to: String!
  }
  type Query {
    "Liveness."
    ok: Boolean!
  }
  type Mutation {
    "Echoes its input: no I/O, no auth, no validation beyond GraphQL's own."
    ping(input: PingInput!): Pong!
  }
`;

let seq = 0;
const resolvers = {
  Query: { ok: () => true },
  Mutation: {
    ping: (_: unknown, { input }: { input: { serviceId: string; to: string } }) => ({ id: `VE${++seq}`, status: "PENDING", to: input.to }),
  },
};

async function main(): Promise<void> {
  const app = express();
  app.disable("x-powered-by");
  const server = createServer(app);
  const apollo = new ApolloServer({
    typeDefs,
    resolvers,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: server }), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  app.use("/graphql", express.json({ limit: "64kb" }), expressMiddleware(apollo, { context: async () => ({}) }));
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`baseline listening on http://127.0.0.1:${port}/graphql\n`);
  const stop = async () => {
    await apollo.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}

main().catch((err) => {
  process.stderr.write(`baseline failed: ${String(err)}\n`);
  process.exit(1);
});
