import type { Response } from "express";
import { randomUUID } from "node:crypto";
import { AppError, ErrorCatalog, type ErrorCode } from "../errors.js";
import type { Logger } from "../log.js";

/**
 * Errors on the Twilio-compatible REST API: Twilio's error JSON `{ code, message, more_info, status }`
 * (the `twilio` SDK turns it into a `RestException` with `status` and `code`), with the HTTP status
 * Twilio gives each code. The domain's errors are the same values GraphQL answers with; only the
 * wire differs: here an HTTP status, `Retry-After` on every 429, and Twilio's parameter names.
 */

/**
 * The HTTP status of every code. A Record over all codes, so a new code cannot reach this API without
 * a status chosen for it. Twilio's own: 60200 400, 60202/60203 429, 60205/60410/60605 403, 20003 401,
 * 20404 404, 20429 429.
 */
const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_PARAMETER: 400,
  CONSENT_REQUIRED: 400,
  MAX_CHECK_ATTEMPTS_REACHED: 429,
  MAX_SEND_ATTEMPTS_REACHED: 429,
  SMS_TO_LANDLINE: 403,
  PREFIX_BLOCKED: 403,
  GEO_BLOCKED: 403,
  SPEND_LIMIT_REACHED: 429,
  CHANNEL_DISABLED: 400,
  DELIVERY_FAILED: 400,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  QUERY_TOO_COMPLEX: 400,
  SUBSCRIBER_TOO_SLOW: 429,
  SUBSCRIPTION_NEEDS_WEBSOCKET: 400,
  REQUEST_TOO_LARGE: 413,
  TOO_MANY_SUBSCRIPTIONS: 429,
  APPROVAL_TOKEN_INVALID: 400,
  APPROVAL_TOKEN_USED: 409,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  SERVICE_UNAVAILABLE: 503,
};

/** Twilio answers bad credentials with 20003 ("Authenticate"), not the 20401 GraphQL uses. */
const TWILIO_AUTH_ERROR = 20003;

/** A 429 without a time of its own still says when to come back. */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** Twilio's PascalCase name of a domain input field, for messages that name the parameter. */
const PARAM_NAMES: Record<string, string> = {
  verificationId: "VerificationSid",
  serviceId: "ServiceSid",
  first: "PageSize",
  after: "PageToken",
  number: "PhoneNumber",
  from: "DateCreatedAfter",
  until: "DateCreatedBefore",
  intervalSeconds: "Interval",
  id: "Sid",
  "consent.textVersion": "ConsentTextVersion",
  "consent.agreedAt": "ConsentAgreedAt",
  "consent.userAgent": "ConsentUserAgent",
};

export function twilioParamName(field: string): string {
  return PARAM_NAMES[field] ?? field.charAt(0).toUpperCase() + field.slice(1);
}

/** 60200 naming a REST parameter by its Twilio name (`Invalid parameter \`Channel\`: …`). */
export function invalidParam(param: string, why: string): AppError {
  return new AppError("INVALID_PARAMETER", `Invalid parameter \`${param}\`: ${why}`, { detail: { field: param } });
}

/** The Twilio error body and HTTP status of a domain error. */
export function twilioError(e: AppError): { status: number; body: { code: number; message: string; more_info: string; status: number } } {
  const status = HTTP_STATUS[e.code];
  const code = e.code === "UNAUTHENTICATED" ? TWILIO_AUTH_ERROR : e.errorCode;
  let message = e.message;
  const field = e.detail?.field;
  // Domain messages name fields as GraphQL does ("customCode: must be …"): say the REST parameter instead.
  if (e.code === "INVALID_PARAMETER" && typeof field === "string" && message.startsWith(`${field}: `)) {
    message = `Invalid parameter \`${twilioParamName(field)}\`: ${message.slice(field.length + 2)}`;
  }
  if (e.code === "UNAUTHENTICATED") {
    message = "Authenticate: HTTP Basic with this instance's account SID (or an API key's SK… SID) as the username and an API key as the password";
  }
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

/**
 * Answers an error. Domain errors keep their code and message; anything else is logged in full and
 * masked as 20500 with a request id (never a stack, a path or SQL).
 */
export function sendError(res: Response, err: unknown, log: Logger): void {
  let e: AppError;
  if (err instanceof AppError) {
    e = err;
  } else {
    const requestId = randomUUID();
    log.error("unhandled REST error", { requestId, error: err instanceof Error ? err.stack : String(err) });
    e = new AppError("INTERNAL", `${ErrorCatalog.INTERNAL.message} (request ${requestId})`);
  }
  const { status, body } = twilioError(e);
  if (status === 429 || status === 503) res.setHeader("Retry-After", String(Math.ceil(e.retryAfterSeconds ?? (status === 503 ? 5 : DEFAULT_RETRY_AFTER_SECONDS))));
  if (status === 401) res.setHeader("WWW-Authenticate", 'Basic realm="verify-guard"');
  res.status(status).json(body);
}
