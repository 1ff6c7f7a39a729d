import express, { type NextFunction, type Request, type Response } from "express";
import { Kind, parse, type DocumentNode, type SelectionSetNode } from "graphql";
import type { ApiKeys, Caller } from "../auth/keys.js";
import { isAppError } from "../errors.js";
import { sendHttpError } from "./respond.js";

/** Who may run introspection (GraphiQL's schema fetch): any key holder, or anyone. @default "key" */
export type IntrospectionAccess = "key" | "public";

/**
 * Largest anonymous request read at all (only when INTROSPECTION=public; GraphiQL's introspection
 * query is about 2 kB). Anything else anonymous is answered without reading its body.
 */
export const ANONYMOUS_BODY_LIMIT = 8 * 1024;
/** Tokens an anonymous document may have: bounds the parser's work on what it does read. */
const ANONYMOUS_MAX_TOKENS = 1_000;

/** What the gate leaves for the GraphQL layer in `res.locals`. */
export interface GateLocals {
  /** The authenticated caller; null only for a public introspection request. */
  caller: Caller | null;
}

/**
 * Authenticate before any work (issue 13, finding 1). Runs in front of the body parser, Apollo and the
 * query cost rule: a request without a valid key costs one hash and one indexed lookup, and is answered
 * 401 / 20401 without its body being read, parsed, validated or priced. (An unread body is discarded by
 * Node's HTTP server, which does no work on it.)
 *
 * The one exception is introspection when `INTROSPECTION=public`: an anonymous request of at most
 * {@link ANONYMOUS_BODY_LIMIT} bytes and {@link ANONYMOUS_MAX_TOKENS} tokens whose every root field is
 * `__schema`, `__type` or `__typename` goes on, with no caller (resolvers would answer 20401 anyway).
 */
export function authGate(opts: { apiKeys: ApiKeys; introspection: IntrospectionAccess }) {
  const smallJson = express.json({ limit: ANONYMOUS_BODY_LIMIT });
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const caller = await authenticate(opts.apiKeys, req.headers.authorization);
      if (caller) {
        (res.locals as GateLocals).caller = caller;
        return next();
      }
    } catch (err) {
      return next(err); // the key store failed: not the caller's fault (500 INTERNAL, logged)
    }
    if (opts.introspection === "public" && (await isSmallIntrospection(req, res, smallJson))) {
      (res.locals as GateLocals).caller = null;
      return next();
    }
    res.setHeader("www-authenticate", 'Bearer realm="verify-guard"');
    sendHttpError(req, res, 401, "UNAUTHENTICATED");
  };
}

/** The caller a bearer header names; null when it is missing, malformed, unknown, revoked or expired. */
export async function authenticate(apiKeys: ApiKeys, authorization: string | undefined): Promise<Caller | null> {
  try {
    return await apiKeys.authenticate(authorization);
  } catch (err) {
    // A wrong key learns nothing more than a missing one. Anything else (the database is down) is not
    // the caller's fault: it goes up and is answered as INTERNAL.
    if (isAppError(err)) return null;
    throw err;
  }
}

/** Reads at most the small limit of an anonymous request and tells whether it only introspects. */
async function isSmallIntrospection(req: Request, res: Response, smallJson: express.RequestHandler): Promise<boolean> {
  let query: unknown;
  if (req.method === "GET") {
    query = req.query.query;
  } else if (req.method === "POST") {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > ANONYMOUS_BODY_LIMIT) return false;
    const parsed = await new Promise<boolean>((resolve) => smallJson(req, res, (err?: unknown) => resolve(!err)));
    if (!parsed) return false;
    query = (req.body as { query?: unknown } | undefined)?.query;
  }
  if (typeof query !== "string" || query.length > ANONYMOUS_BODY_LIMIT) return false;
  let doc: DocumentNode;
  try {
    doc = parse(query, { maxTokens: ANONYMOUS_MAX_TOKENS, noLocation: true });
  } catch {
    return false;
  }
  return introspectsOnly(doc);
}

/** True when every operation selects only `__schema`, `__type` and `__typename` at its root. */
export function introspectsOnly(doc: DocumentNode): boolean {
  const fragments = new Map(doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const rootOnly = (set: SelectionSetNode, seen: Set<string>): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.FIELD) return s.name.value.startsWith("__");
      if (s.kind === Kind.INLINE_FRAGMENT) return rootOnly(s.selectionSet, seen);
      const frag = fragments.get(s.name.value);
      if (!frag || seen.has(s.name.value)) return false;
      return rootOnly(frag, new Set(seen).add(s.name.value));
    });
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  return ops.length > 0 && ops.every((op) => op.operation === "query" && rootOnly(op.selectionSet, new Set()));
}
