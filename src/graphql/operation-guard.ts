import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError } from "graphql";
import { AppError, ErrorCatalog, type ErrorCode } from "../errors.js";
import { GRAPHQL_JSON, responseMediaType } from "../http/respond.js";
import type { GraphQLContext } from "./context.js";
import { costErrors, type CostLimitsByRole } from "./cost.js";
import { oversizedString } from "./string-cap.js";

/**
 * Errors that mean "this document cannot run as sent": parse, validation, variable coercion and the
 * cost limit. GraphQL over HTTP answers them 400 under `application/graphql-response+json` but 200
 * under the legacy `application/json`, where the status says only that a GraphQL response follows
 * (https://graphql.github.io/graphql-over-http/draft/#sec-application-json).
 */
const DOCUMENT_ERROR_CODES = new Set(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "QUERY_TOO_COMPLEX"]);

/**
 * What Apollo Server does not do on its own, for every HTTP operation once it is parsed and valid:
 * - a subscription is refused with 400 SUBSCRIPTION_NEEDS_WEBSOCKET before any resolver runs (a
 *   subscription field's resolver over HTTP would only fail, logging a stack);
 * - no string argument is longer than MAX_STRING_ARGUMENT (60200, HTTP 400);
 * - the cost limit of the caller's role (a CLIENT key gets a budget sized for start, check and read);
 * - the HTTP status of document errors follows the negotiated media type (see above), which is what
 *   graphql-http's `auditServer` checks.
 * Anonymous requests never get here, except public introspection (http/auth-gate.ts).
 */
export function operationGuard(opts: { costLimits: CostLimitsByRole }): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          if (rc.operation?.operation === "subscription") throw requestError("SUBSCRIPTION_NEEDS_WEBSOCKET");
          const tooLong = oversizedString(rc.document, rc.request.variables);
          if (tooLong) throw tooLong;
          const role = rc.contextValue.caller?.role;
          if (!role) return;
          const [tooCostly] = costErrors(rc.schema, rc.document, opts.costLimits[role]);
          if (tooCostly) throw new GraphQLError(tooCostly.message, { nodes: tooCostly.nodes, originalError: tooCostly.originalError, extensions: { ...tooCostly.extensions, http: { status: 400 } } });
        },
        async willSendResponse(rc) {
          const { http, body } = rc.response;
          if (http.status !== 400 || body.kind !== "single" || body.singleResult.data !== undefined) return;
          if (responseMediaType(rc.request.http?.headers.get("accept")) !== GRAPHQL_JSON) return;
          if (rc.errors?.length && rc.errors.every((e) => DOCUMENT_ERROR_CODES.has(String(e.extensions.code)))) http.status = 200;
        },
      };
    },
  };
}

/** A request-level refusal with our code, answered 400 whatever the media type. */
function requestError(code: ErrorCode): GraphQLError {
  return new GraphQLError(ErrorCatalog[code].message, { originalError: new AppError(code), extensions: { code, http: { status: 400 } } });
}
