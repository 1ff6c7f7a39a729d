import type { GraphQLFormattedError } from "graphql";
import { GraphQLError } from "graphql";
import { randomUUID } from "node:crypto";
import { AppError, ErrorCatalog } from "../errors.js";
import { currentRequestId, type Logger } from "../log.js";

/** GraphQL-level codes Apollo/graphql-js produce for malformed requests, mapped to ours. */
const GRAPHQL_INPUT_CODES = new Set(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "OPERATION_RESOLUTION_FAILURE"]);

/** The extensions a domain error carries on the wire. */
function extensionsOf(e: AppError): Record<string, unknown> {
  return {
    code: e.code,
    errorCode: e.errorCode,
    ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}),
    ...(e.detail ? { detail: e.detail } : {}),
  };
}

/**
 * The one place errors reach the wire. Domain errors (also when wrapped in a GraphQLError, as the
 * query cost rule reports them) keep their code, number and message; GraphQL input errors become
 * INVALID_PARAMETER (60200); anything else is logged in full and masked as INTERNAL with a request
 * id. Never a stack trace.
 */
export function createFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrap(error);
    if (original instanceof AppError) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: extensionsOf(original) };
    }
    const gqlCode = formatted.extensions?.code;
    if (typeof gqlCode === "string" && GRAPHQL_INPUT_CODES.has(gqlCode)) {
      return { message: formatted.message, locations: formatted.locations, extensions: { code: "INVALID_PARAMETER", errorCode: ErrorCatalog.INVALID_PARAMETER.errorCode } };
    }
    if (error instanceof GraphQLError && !error.originalError && !formatted.path) {
      // graphql-js validation of variables/arguments: a caller's mistake, safe to show.
      return { message: formatted.message, locations: formatted.locations, extensions: { code: "INVALID_PARAMETER", errorCode: ErrorCatalog.INVALID_PARAMETER.errorCode } };
    }
    // The request's own id when formatting runs inside it (HTTP, WebSocket), so the answer names the logs.
    const requestId = currentRequestId() ?? randomUUID();
    log.error("unhandled error", { requestId, error: original instanceof Error ? original.stack : String(original) });
    return {
      message: `Internal error (request ${requestId})`,
      path: formatted.path,
      extensions: { code: "INTERNAL", errorCode: ErrorCatalog.INTERNAL.errorCode, requestId },
    };
  };
}

function unwrap(error: unknown): unknown {
  let e = error;
  for (let i = 0; i < 5 && e instanceof GraphQLError && e.originalError; i++) e = e.originalError;
  return e;
}
