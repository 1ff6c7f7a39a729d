import type { Request, Response } from "express";
import Negotiator from "negotiator";
import { ErrorCatalog, type ErrorCode } from "../errors.js";

/** The media types a GraphQL-over-HTTP server answers with, in the order of preference ties. */
export const GRAPHQL_JSON = "application/json";
export const GRAPHQL_RESPONSE_JSON = "application/graphql-response+json";

/**
 * The media type a request accepts: `application/graphql-response+json` when the client asks for it
 * (GraphQL over HTTP §"Accept"), otherwise the legacy `application/json` (also when no Accept is
 * sent, as the spec asks of servers during the watershed period).
 */
export function responseMediaType(accept: string | null | undefined): typeof GRAPHQL_JSON | typeof GRAPHQL_RESPONSE_JSON {
  if (!accept) return GRAPHQL_JSON;
  // Negotiated exactly as Apollo Server picks its content type, so the two never disagree.
  const preferred = new Negotiator({ headers: { accept } }).mediaType([GRAPHQL_JSON, GRAPHQL_RESPONSE_JSON]);
  return preferred === GRAPHQL_RESPONSE_JSON ? GRAPHQL_RESPONSE_JSON : GRAPHQL_JSON;
}

/**
 * Answers a request the GraphQL layer never saw (no key, body too large, not JSON) the way every
 * GraphQL error reads: `{ errors: [{ message, extensions: { code, errorCode } }] }`, in the media type
 * the client accepts. Never a stack.
 */
export function sendHttpError(req: Request, res: Response, status: number, code: ErrorCode, message?: string): void {
  res
    .status(status)
    .type(responseMediaType(req.headers.accept))
    .send(JSON.stringify({ errors: [{ message: message ?? ErrorCatalog[code].message, extensions: { code, errorCode: ErrorCatalog[code].errorCode } }] }));
}
