import express, { type NextFunction, type Request, type Response } from "express";
import { AppError } from "../errors.js";
import type { AppServices } from "../graphql/context.js";
import type { ClientIpResolver } from "../http/client-ip.js";
import { restCaller } from "./auth.js";
import type { RestCall } from "./context.js";
import { invalidParam, sendError } from "./errors.js";
import { mountAttempts } from "./resources/attempts.js";
import { mountRateLimits } from "./resources/rate-limits.js";
import { mountSafeList } from "./resources/safe-list.js";
import { mountServices } from "./resources/services.js";
import { mountVerifications } from "./resources/verifications.js";

/**
 * The Twilio-compatible REST API (Verify v2), mounted at `/v2` on the GraphQL server's port: a thin
 * adapter that translates Twilio's form parameters into the domain's inputs, the domain's rows into
 * Twilio's JSON, and its errors into Twilio's error JSON and HTTP statuses. Every rule lives in the
 * domain that GraphQL calls too. Reference: twilio/twilio-oai `spec/json/twilio_verify_v2.json`.
 */

export interface RestDeps {
  app: AppServices;
  clientIp: ClientIpResolver;
  /** PUBLIC_URL: the base of the `url`s in answers; else each request's own origin. */
  publicUrl?: string;
}

/** Twilio Verify resources verify-guard does not implement: answered 20404 with a message that says so. */
const UNIMPLEMENTED = /^\/(Services\/[^/]+\/(Entities|AccessTokens|MessagingConfigurations|Webhooks|Passkeys)|Forms|Templates)(\/|$)/;

/** Same limit as GraphQL bodies; Twilio's own parameters are far smaller. */
const BODY_LIMIT = "64kb";

export function createRestRouter(deps: RestDeps): express.Router {
  const r = express.Router({ caseSensitive: true });
  const form = express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 100 });
  const publicBase = deps.publicUrl?.replace(/\/+$/, "");

  // Who calls, before anything is parsed: an unauthenticated request costs one key lookup at most.
  r.use(async (req: Request, res: Response, next: NextFunction) => {
    const caller = await restCaller(deps.app.apiKeys, req.headers.authorization);
    const call: RestCall = {
      app: deps.app,
      caller,
      ip: deps.clientIp.resolve(req.socket.remoteAddress, req.headers["x-forwarded-for"]),
      view: { base: publicBase ?? `${req.protocol}://${req.headers.host ?? "localhost"}`, accountSid: deps.app.apiKeys.accountSid },
    };
    res.locals.rest = call;
    next();
  });

  // Bodies are Twilio's form encoding; anything else would be read as no parameters at all.
  r.use((req: Request, res: Response, next: NextFunction) => {
    const hasBody = req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] ?? "0") !== "0";
    if (req.method !== "POST" || !hasBody) {
      req.body = {};
      return next();
    }
    if (!req.is("application/x-www-form-urlencoded")) {
      throw invalidParam("Content-Type", "the body must be form-encoded (application/x-www-form-urlencoded), as Twilio's API takes it");
    }
    form(req, res, next);
  });

  mountServices(r);
  mountVerifications(r);
  mountRateLimits(r);
  mountAttempts(r);
  mountSafeList(r);

  r.use((req: Request) => {
    const path = req.path;
    if (UNIMPLEMENTED.test(path)) throw new AppError("NOT_FOUND", `${path.split("/").slice(0, 4).join("/")}: this Twilio Verify resource is not implemented by verify-guard (see docs/twilio-compat.md)`);
    throw new AppError("NOT_FOUND", `No resource ${req.method} /v2${path.slice(0, 200)}`);
  });

  r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    sendError(res, bodyError(err) ?? err, deps.app.log);
  });
  return r;
}

/** body-parser's errors (too large, too many parameters, bad encoding) as a 60200 on the body; else null. */
function bodyError(err: unknown): AppError | null {
  if (typeof err !== "object" || err === null || !("type" in err) || typeof err.type !== "string") return null;
  const why: Record<string, string> = {
    "entity.too.large": `larger than ${BODY_LIMIT}`,
    "parameters.too.many": "more than 100 parameters",
    "entity.parse.failed": "not valid form encoding",
    "encoding.unsupported": "unsupported content encoding",
    "charset.unsupported": "unsupported charset (use UTF-8)",
    "request.aborted": "the request was aborted",
    "request.size.invalid": "shorter than its Content-Length",
  };
  return why[err.type] ? invalidParam("Body", why[err.type]!) : null;
}
