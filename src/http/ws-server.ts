import { execute, getOperationAST, GraphQLError, parse, specifiedRules, subscribe, validate, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { randomUUID } from "node:crypto";
import type { WebSocketServer } from "ws";
import type { Caller } from "../auth/keys.js";
import type { AppServices, GraphQLContext } from "../graphql/context.js";
import { costErrors, type CostLimitsByRole } from "../graphql/cost.js";
import { oversizedString } from "../graphql/string-cap.js";
import type { createFormatError } from "../graphql/errors.js";
import type { ClientIpResolver } from "./client-ip.js";
import { AppError } from "../errors.js";
import { authenticate } from "./auth-gate.js";
import { requestContext } from "../log.js";
import type { SocketSlots, WsLimits } from "./ws-limits.js";

/** What graphql-ws keeps per socket (`ctx.extra`) besides the socket and its upgrade request. */
export type SocketState = {
  ip?: string | null;
  /** The caller `connection_init` authenticated; every socket past onConnect has one. */
  caller?: Caller;
  /** The socket's and its subscriptions' slots (ws-limits.ts). */
  slots?: SocketSlots;
};

export interface WsDeps {
  schema: GraphQLSchema;
  app: AppServices;
  clientIp: ClientIpResolver;
  costLimits: CostLimitsByRole;
  formatError: ReturnType<typeof createFormatError>;
  limits: WsLimits;
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's /graphql. A socket is authenticated once,
 * by `connection_init`'s `authorization`; without a valid key it is closed with 4403 before any
 * operation is read. Each operation is parsed, validated and priced against the caller's role, as
 * over HTTP.
 */
export function serveGraphqlWs(deps: WsDeps, wsServer: WebSocketServer) {
  const { app, formatError } = deps;
  /** The caller named by `connection_init`'s `authorization`; null (and logged) when the lookup fails. */
  const wsCaller = (params: Record<string, unknown> | undefined): Promise<Caller | null> => {
    const auth = params?.authorization ?? params?.Authorization;
    return authenticate(app.apiKeys, typeof auth === "string" ? auth : undefined).catch((err: unknown) => {
      app.log.error("websocket authentication failed", { error: String(err) });
      return null;
    });
  };
  return useServer<Record<string, unknown>, SocketState>(
    {
      schema: deps.schema,
      onConnect: async (ctx) => {
        // A throw here would close the socket with the error's message as reason: wsCaller logs it instead.
        const caller = await wsCaller(ctx.connectionParams);
        // Returning false closes the socket with 4403 Forbidden (graphql-ws CloseCode.Forbidden).
        if (!caller) return false;
        const ip = deps.clientIp.resolve(ctx.extra.request.socket.remoteAddress, ctx.extra.request.headers["x-forwarded-for"]);
        const { socket } = ctx.extra;
        let slots: SocketSlots | null;
        try {
          // Over a socket limit: closed with 4429 (the `false` below then changes nothing).
          slots = await deps.limits.connect(socket, caller, ip);
        } catch (err) {
          app.log.error("websocket limits unavailable", { error: String(err) });
          socket.close(1011, "20503 Temporarily unavailable; retry later");
          return false;
        }
        if (!slots) return false;
        if (socket.readyState !== socket.OPEN) {
          // The client left while its slots were taken: onClose has run already, so give them back here.
          await deps.limits.disconnect(socket, slots);
          return false;
        }
        Object.assign(ctx.extra, { caller, ip, slots });
        return true;
      },
      onClose: async (ctx) => {
        if (ctx.extra.slots) await deps.limits.disconnect(ctx.extra.socket, ctx.extra.slots).catch((err: unknown) => app.log.warn("could not release a websocket's slots", { error: String(err) }));
      },
      onComplete: async (ctx, id) => {
        if (ctx.extra.slots) await deps.limits.unsubscribe(ctx.extra.slots, id).catch((err: unknown) => app.log.warn("could not release a subscription's slot", { error: String(err) }));
      },
      onSubscribe: async (ctx, id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
        }
        // The same rules as over HTTP: graphql-js' own, then the cost limit of the caller's role.
        const invalid = validate(deps.schema, document, specifiedRules);
        if (invalid.length) return invalid;
        const tooCostly = costErrors(deps.schema, document, deps.costLimits[ctx.extra.caller!.role]);
        if (tooCostly.length) return [...tooCostly];
        const tooLong = oversizedString(document, payload.variables);
        if (tooLong) return [tooLong];
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new GraphQLError("Unable to identify operation")];
        if (operation.operation === "subscription") {
          // Over the socket's or the key's limit: an `error` for this subscription; the socket stays usable.
          const refused = await deps.limits.subscribe(ctx.extra.slots!, id).catch((err: unknown) => {
            app.log.error("websocket limits unavailable", { error: String(err) });
            return new GraphQLError("Temporarily unavailable", { originalError: new AppError("SERVICE_UNAVAILABLE") });
          });
          if (refused) return [refused];
        }
        return { schema: deps.schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      context: async (ctx): Promise<GraphQLContext> => {
        // Each operation reads the key again (one indexed lookup): a key revoked while its socket is
        // open starts nothing new there (resolvers answer 20401).
        const caller = await wsCaller(ctx.connectionParams);
        return { caller, ip: ctx.extra.ip ?? null, requestId: randomUUID(), app };
      },
      // Each operation runs in its own request scope: its log lines and delivery jobs carry its id.
      execute: (args: ExecutionArgs) => inScope(args, () => execute(args)),
      subscribe: (args: ExecutionArgs) => inScope(args, () => subscribe(args)),
      // Errors reach WebSocket clients through the same formatter as HTTP ones: our code and errorCode,
      // never internals. Execution errors (e.g. a subscription refused with 20404) come as `next`,
      // request errors (e.g. QUERY_TOO_COMPLEX) as `error`.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors?.length ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
    },
    wsServer,
  );
}

function inScope<T>(args: ExecutionArgs, run: () => T): T {
  const requestId = (args.contextValue as GraphQLContext | undefined)?.requestId;
  return requestId ? requestContext.run({ requestId }, run) : run();
}
