import cors from "cors";
import type { RequestHandler } from "express";
import type { IncomingMessage } from "node:http";

/**
 * Which browser origins may call the API (CORS_ORIGINS). Pages this server serves (/demo, /admin,
 * GraphiQL) are same-origin and need nothing; another site's page needs its origin listed.
 *
 * - HTTP: a listed origin gets `Access-Control-Allow-Origin: <that origin>`, `Vary: Origin` and
 *   `Access-Control-Allow-Credentials: true` (so `fetch(…, { credentials: "include" })` works; the API
 *   authenticates by bearer header, never by cookie, so credentials grant nothing by themselves).
 *   `*` allows every origin without credentials, as the Fetch standard demands.
 * - An origin that is not listed gets no CORS headers at all, and its preflight is answered 403, so
 *   the browser refuses to send the real request (https://fetch.spec.whatwg.org/#http-cors-protocol).
 * - WebSocket: browsers do not apply CORS to WebSockets but do send `Origin` on the upgrade, so the
 *   same list is enforced there (same-origin and origin-less clients such as Node are always let in;
 *   the key in `connection_init` still decides what a socket may do).
 */
export interface OriginPolicy {
  /** Express middleware: CORS headers and preflights for every route. Mount it first. */
  http: RequestHandler;
  /** Whether a WebSocket upgrade from this request's Origin is accepted. */
  allowsUpgrade(req: IncomingMessage): boolean;
}

/** Request headers a browser client sends (graphql-http's and Apollo's CSRF header included). */
const ALLOWED_HEADERS = ["authorization", "content-type", "accept", "apollo-require-preflight", "x-apollo-operation-name"];
/** Preflight answers may be cached this long (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function createOriginPolicy(origins: readonly string[], publicUrl?: string): OriginPolicy {
  const any = origins.includes("*");
  const listed = new Set(origins.filter((o) => o !== "*"));
  const isListed = (origin: string | undefined): origin is string => origin !== undefined && (any || listed.has(origin));

  const allowed = cors({
    origin: any ? "*" : (origin, done) => done(null, isListed(origin) ? origin : false),
    credentials: !any,
    methods: ["GET", "HEAD", "POST", "DELETE"],
    allowedHeaders: ALLOWED_HEADERS,
    // Rate-limited answers say when to come back; the REST API sends it as a header.
    exposedHeaders: ["Retry-After"],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
  });

  const http: RequestHandler = (req, res, next) => {
    const origin = req.headers.origin;
    if (isListed(origin)) return allowed(req, res, next);
    if (origin !== undefined && req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
      // A preflight from an origin that is not listed: no CORS headers, so the browser stops here.
      res.status(403).end();
      return;
    }
    next();
  };

  const publicOrigin = publicUrl ? new URL(publicUrl).origin : null;
  return {
    http,
    allowsUpgrade(req) {
      const origin = req.headers.origin;
      if (origin === undefined || isListed(origin) || origin === publicOrigin) return true;
      try {
        return new URL(origin).host === req.headers.host;
      } catch {
        return false;
      }
    },
  };
}
