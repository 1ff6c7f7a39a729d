import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type Request } from "express";
import type { GraphQLSchema } from "graphql";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { WebSocketServer } from "ws";
import type { AppServices, GraphQLContext } from "../graphql/context.js";
import type { CostLimitsByRole } from "../graphql/cost.js";
import { createFormatError } from "../graphql/errors.js";
import { operationGuard } from "../graphql/operation-guard.js";
import { authGate, type GateLocals, type IntrospectionAccess } from "./auth-gate.js";
import type { ClientIpResolver } from "./client-ip.js";
import { acceptableRequestId, requestContext } from "../log.js";
import { sendHttpError } from "./respond.js";
import type { Slots } from "./slots.js";
import { WsLimits, type WsLimitOptions } from "./ws-limits.js";
import { serveGraphqlWs } from "./ws-server.js";
import type { OriginPolicy } from "./cors.js";

export interface HttpDeps {
  schema: GraphQLSchema;
  app: AppServices;
  clientIp: ClientIpResolver;
  /** Extra routes (webhooks, metrics, JWKS) mounted before GraphQL. */
  routes?: (router: express.Router) => void;
  /** Timing of every HTTP request by route (metrics); called once the response is finished. */
  onResponse?: (route: string, method: string, status: number, seconds: number) => void;
  /** Readiness probe: throws when a dependency (database, Redis) is down. */
  /** Throws when not ready; may answer details to show beside the status (the store's size, the last purge). */
  ready: () => Promise<void | Record<string, unknown>>;
  /** Extra Apollo plugins. */
  plugins?: ConstructorParameters<typeof ApolloServer<GraphQLContext>>[0]["plugins"];
  /** Depth and cost limits per role, checked before any resolver runs (HTTP and WebSocket alike). */
  costLimits: CostLimitsByRole;
  /** Who may introspect the schema: key holders (default) or anyone (`INTROSPECTION=public`). */
  introspection: IntrospectionAccess;
  /** Where WebSocket and subscription counts live (in-process, or Redis across instances), and the limits. */
  slots: Slots;
  wsLimits?: Partial<WsLimitOptions>;
  /** Which browser origins may call (CORS_ORIGINS); mounted before every route, also checked on WebSocket upgrades. */
  origins?: OriginPolicy;
  /** Browser-facing routes (GraphiQL, /demo, /admin, exports), mounted before GraphQL. */
  pages?: (router: express.Router) => void;
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
  const wsServer = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    // A page from an origin CORS_ORIGINS does not list gets no socket either (403 on the upgrade).
    verifyClient: deps.origins
      ? ({ req }: { req: IncomingMessage }, done: (ok: boolean, status?: number) => void) => done(deps.origins!.allowsUpgrade(req), 403)
      : undefined,
  });
  // Upgrades are routed here rather than by ws's `server` option, which also re-emits the HTTP
  // server's errors (EADDRINUSE) on the WebSocket server, where graphql-ws prints them with a stack
  // before listen()'s caller can say in one line that the port is taken.
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/graphql") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit("connection", ws, req));
  });

  const formatError = createFormatError(deps.app.log);
  const limits = new WsLimits({ slots: deps.slots, apiKeys: deps.app.apiKeys, log: deps.app.log, options: deps.wsLimits });
  const wsCleanup = serveGraphqlWs({ schema: deps.schema, app: deps.app, clientIp: deps.clientIp, costLimits: deps.costLimits, formatError, limits }, wsServer);

  const apollo = new ApolloServer<GraphQLContext>({
    schema: deps.schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    // Introspection needs a key unless INTROSPECTION=public: the auth gate decides who gets here.
    introspection: true,
    plugins: [
      operationGuard({ costLimits: deps.costLimits }),
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ApolloServerPluginLandingPageDisabled(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
              await limits.close();
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
      // A request id for every request: the caller's X-Request-Id when it is sane, else a new one;
      // echoed in the response, logged on every line the request writes (see log.ts).
      expressApp.use((req, res, next) => {
        const given = req.headers["x-request-id"];
        const requestId = acceptableRequestId(given) ? given : randomUUID();
        res.locals.requestId = requestId;
        res.setHeader("x-request-id", requestId);
        if (deps.onResponse) {
          const started = process.hrtime.bigint();
          res.once("finish", () => {
            const route = (req.route?.path as string | undefined) ?? (req.originalUrl.startsWith("/graphql") ? "/graphql" : "other");
            deps.onResponse!(route, req.method, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
          });
        }
        requestContext.run({ requestId }, next);
      });
      if (deps.origins) expressApp.use(deps.origins.http);
      expressApp.get("/healthz", (_req, res) => {
        res.json({ status: "ok" });
      });
      expressApp.get("/readyz", async (_req, res) => {
        try {
          const details = await deps.ready();
          res.json({ status: "ready", ...details });
        } catch (err) {
          deps.app.log.warn("readiness check failed", { error: String(err) });
          res.status(503).json({ status: "unavailable" });
        }
      });
      const router = express.Router();
      deps.routes?.(router);
      deps.pages?.(router);
      expressApp.use(router);
      expressApp.use(
        "/graphql",
        // Authenticate before any work: an anonymous request is answered here, its body unread.
        authGate({ apiKeys: deps.app.apiKeys, introspection: deps.introspection }),
        express.json({ limit: "64kb" }),
        // Body parsing resumes in the socket's async context: enter the request's scope again.
        enterRequestScope,
        expressMiddleware(apollo, {
          context: async ({ req, res }): Promise<GraphQLContext> => ({
            caller: (res.locals as GateLocals).caller,
            ip: deps.clientIp.resolve(req.socket.remoteAddress, req.headers["x-forwarded-for"]),
            requestId: res.locals.requestId as string,
            app: deps.app,
          }),
        }),
      );
      // Malformed JSON bodies, bodies over the limit and other framework errors: a clean 4xx, never a stack.
      expressApp.use((err: unknown, req: Request, res: express.Response, next: express.NextFunction) => {
        if (res.headersSent) return next(err);
        const status = typeof err === "object" && err && "status" in err && typeof err.status === "number" ? err.status : 500;
        if (status >= 500) {
          deps.app.log.error("http error", { error: String(err) });
          return sendHttpError(req, res, 500, "INTERNAL");
        }
        if (status === 413) return sendHttpError(req, res, 413, "REQUEST_TOO_LARGE");
        sendHttpError(req, res, status, "INVALID_PARAMETER", "Bad request");
      });
    },
    async stop() {
      await apollo.stop();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/**
 * Re-enters the request's scope (set by the first middleware) after a body parser: the parser's
 * callback runs in the socket's async context, where the scope is not visible.
 */
export function enterRequestScope(_req: Request, res: express.Response, next: express.NextFunction): void {
  const requestId = res.locals.requestId as string | undefined;
  if (requestId) requestContext.run({ requestId }, next);
  else next();
}

