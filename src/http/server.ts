import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type Request } from "express";
import { specifiedRules, validate, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { WebSocketServer } from "ws";
import type { Caller } from "../auth/keys.js";
import type { AppServices, GraphQLContext } from "../graphql/context.js";
import { ErrorCatalog, isAppError } from "../errors.js";
import { createFormatError } from "../graphql/errors.js";
import type { ClientIpResolver } from "./client-ip.js";
import { renderOfflineGraphiQL } from "./graphiql.js";

export interface HttpDeps {
  schema: GraphQLSchema;
  app: AppServices;
  clientIp: ClientIpResolver;
  /** Extra routes (webhooks) mounted before GraphQL. */
  routes?: (router: express.Router) => void;
  /** Readiness probe: throws when a dependency (database, Redis) is down. */
  ready: () => Promise<void>;
  /** Extra Apollo plugins (query cost limits, …). */
  plugins?: ConstructorParameters<typeof ApolloServer<GraphQLContext>>[0]["plugins"];
  /** Extra validation rules (depth limits, …). */
  validationRules?: ConstructorParameters<typeof ApolloServer<GraphQLContext>>[0]["validationRules"];
}

export interface HttpServer {
  server: Server;
  wsServer: WebSocketServer;
  start(): Promise<void>;
  /** Stops accepting, drains in-flight requests and sockets. */
  stop(): Promise<void>;
}

/** One HTTP server: GraphQL over HTTP (Apollo) and WebSocket (graphql-ws) on /graphql, GraphiQL, health. */
export function createHttpServer(deps: HttpDeps): HttpServer {
  const expressApp = express();
  expressApp.disable("x-powered-by");
  const server = createServer(expressApp);
  // Messages as large as an HTTP body may be (64 kB), not ws's default 100 MB: a query is small.
  const wsServer = new WebSocketServer({ server, path: "/graphql", maxPayload: 64 * 1024 });
  const graphiql = renderOfflineGraphiQL();

  const authenticate = async (authorization: string | undefined): Promise<Caller | null> => {
    try {
      return await deps.app.apiKeys.authenticate(authorization);
    } catch (err) {
      // A wrong or unknown key is no caller: resolvers answer 20401 and the key learns nothing more.
      // Anything else (the database is down) is not the caller's fault: let it surface as INTERNAL.
      if (isAppError(err)) return null;
      throw err;
    }
  };

  const formatError = createFormatError(deps.app.log);
  /** The caller named by `connection_init`'s `authorization`; null (and logged) when the lookup fails. */
  const wsCaller = (params: Record<string, unknown> | undefined): Promise<Caller | null> => {
    const auth = params?.authorization ?? params?.Authorization;
    return authenticate(typeof auth === "string" ? auth : undefined).catch((err: unknown) => {
      deps.app.log.error("websocket authentication failed", { error: String(err) });
      return null;
    });
  };
  const wsCleanup = useServer<Record<string, unknown>, { ip?: string | null }>(
    {
      schema: deps.schema,
      onConnect: async (ctx) => {
        // A throw here would close the socket with the error's message as reason: wsCaller logs it instead.
        const caller = await wsCaller(ctx.connectionParams);
        // Returning false closes the socket with 4403 Forbidden (graphql-ws CloseCode.Forbidden).
        if (!caller) return false;
        ctx.extra.ip = deps.clientIp.resolve(ctx.extra.request.socket.remoteAddress, ctx.extra.request.headers["x-forwarded-for"]);
        return true;
      },
      context: async (ctx): Promise<GraphQLContext> => {
        // Each operation reads the key again (one indexed lookup): a key revoked while its socket is
        // open starts nothing new there (resolvers answer 20401). Running subscriptions keep going.
        const caller = await wsCaller(ctx.connectionParams);
        return { caller, ip: ctx.extra.ip ?? null, requestId: randomUUID(), app: deps.app };
      },
      // The same validation rules (query cost limits) as over HTTP.
      validate: (schema, document) => validate(schema, document, [...specifiedRules, ...(deps.validationRules ?? [])]),
      // Errors reach WebSocket clients through the same formatter as HTTP ones: our code and errorCode,
      // never internals. Execution errors (e.g. a subscription refused with 20404) come as `next`,
      // validation errors (e.g. QUERY_TOO_COMPLEX) as `error`.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors?.length ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema: deps.schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    validationRules: deps.validationRules,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ApolloServerPluginLandingPageDisabled(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      ...(deps.plugins ?? []),
    ],
  });

  return {
    server,
    wsServer,
    async start() {
      await apollo.start();
      expressApp.get("/healthz", (_req, res) => {
        res.json({ status: "ok" });
      });
      expressApp.get("/readyz", async (_req, res) => {
        try {
          await deps.ready();
          res.json({ status: "ready" });
        } catch (err) {
          deps.app.log.warn("readiness check failed", { error: String(err) });
          res.status(503).json({ status: "unavailable" });
        }
      });
      const router = express.Router();
      deps.routes?.(router);
      expressApp.use(router);
      expressApp.get("/graphql", (req, res, next) => {
        if (wantsHtml(req)) {
          res.type("html").send(graphiql);
          return;
        }
        next();
      });
      expressApp.use(
        "/graphql",
        express.json({ limit: "64kb" }),
        expressMiddleware(apollo, {
          context: async ({ req }): Promise<GraphQLContext> => ({
            caller: await authenticate(req.headers.authorization),
            ip: deps.clientIp.resolve(req.socket.remoteAddress, req.headers["x-forwarded-for"]),
            requestId: randomUUID(),
            app: deps.app,
          }),
        }),
      );
      // Malformed JSON bodies and other framework errors: a clean 400, never a stack.
      expressApp.use((err: unknown, _req: Request, res: express.Response, next: express.NextFunction) => {
        if (res.headersSent) return next(err);
        const status = typeof err === "object" && err && "status" in err && typeof err.status === "number" ? err.status : 500;
        if (status >= 500) deps.app.log.error("http error", { error: String(err) });
        const code = status >= 500 ? "INTERNAL" : "INVALID_PARAMETER";
        res.status(status).json({ errors: [{ message: status >= 500 ? "Internal error" : "Bad request", extensions: { code, errorCode: ErrorCatalog[code].errorCode } }] });
      });
    },
    async stop() {
      await apollo.stop();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

function wantsHtml(req: Request): boolean {
  const accept = req.headers.accept ?? "";
  return req.query.query === undefined && accept.includes("text/html");
}
