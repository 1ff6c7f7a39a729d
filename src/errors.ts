/**
 * Domain errors: values with a stable UPPER_SNAKE `code` and, where Twilio has one, its numeric
 * `errorCode` (https://www.twilio.com/docs/api/errors). One function in `graphql/errors.ts` maps them
 * to the wire; anything that is not an AppError is masked as INTERNAL.
 */
export const ErrorCatalog = {
  INVALID_PARAMETER: { errorCode: 60200, message: "Invalid parameter" },
  /** A parameter the service requires is missing: Twilio answers that with 60200 too. */
  CONSENT_REQUIRED: { errorCode: 60200, message: "This service requires the user's consent with every start: consent { textVersion agreedAt } (GraphQL), ConsentTextVersion and ConsentAgreedAt (REST)" },
  MAX_CHECK_ATTEMPTS_REACHED: { errorCode: 60202, message: "Max check attempts reached" },
  MAX_SEND_ATTEMPTS_REACHED: { errorCode: 60203, message: "Max send attempts reached" },
  SMS_TO_LANDLINE: { errorCode: 60205, message: "SMS is not supported by landline phone number" },
  PREFIX_BLOCKED: { errorCode: 60410, message: "Verification delivery attempt blocked" },
  GEO_BLOCKED: { errorCode: 60605, message: "Verification delivery to this country is blocked by the service's geo permissions" },
  SPEND_LIMIT_REACHED: { errorCode: 60606, message: "The service's daily spend budget for verifications is used up" },
  CHANNEL_DISABLED: { errorCode: 60223, message: "The requested delivery channel is disabled for this service" },
  DELIVERY_FAILED: { errorCode: 60008, message: "The code could not be delivered to this number" },
  RATE_LIMITED: { errorCode: 20429, message: "Too many requests" },
  NOT_FOUND: { errorCode: 20404, message: "The requested resource was not found" },
  UNAUTHENTICATED: { errorCode: 20401, message: "Authentication required: send Authorization: Bearer <api key>" },
  FORBIDDEN: { errorCode: 20403, message: "This API key may not perform this operation" },
  QUERY_TOO_COMPLEX: { errorCode: 20400, message: "The query is too deep or too complex" },
  SUBSCRIPTION_NEEDS_WEBSOCKET: { errorCode: 20400, message: "Subscriptions are served over WebSocket (graphql-ws) on /graphql, not over HTTP" },
  REQUEST_TOO_LARGE: { errorCode: 20400, message: "Request body too large" },
  TOO_MANY_SUBSCRIPTIONS: { errorCode: 20429, message: "Too many subscriptions" },
  SUBSCRIBER_TOO_SLOW: { errorCode: 20429, message: "The subscriber fell too far behind its events; subscribe again" },
  APPROVAL_TOKEN_INVALID: { errorCode: 20400, message: "The approval token is not valid: malformed, tampered with, expired, or for another service" },
  APPROVAL_TOKEN_USED: { errorCode: 20409, message: "The approval token was already redeemed" },
  INTERNAL: { errorCode: 20500, message: "Internal error" },
  NOT_IMPLEMENTED: { errorCode: 20501, message: "Not implemented by verify-guard" },
  SERVICE_UNAVAILABLE: { errorCode: 20503, message: "Temporarily unavailable; retry later" },
} as const;

export type ErrorCode = keyof typeof ErrorCatalog;

export interface AppErrorOptions {
  /** Seconds after which a retry may succeed (rate limits). */
  retryAfterSeconds?: number;
  /** Extra, safe-to-show detail for the caller (never internals). */
  detail?: Record<string, string | number | boolean>;
  cause?: unknown;
}

export class AppError extends Error {
  override name = "AppError";
  readonly errorCode: number;
  readonly retryAfterSeconds?: number;
  readonly detail?: Record<string, string | number | boolean>;

  constructor(readonly code: ErrorCode, message?: string, opts: AppErrorOptions = {}) {
    super(message ?? ErrorCatalog[code].message, { cause: opts.cause });
    this.errorCode = ErrorCatalog[code].errorCode;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.detail = opts.detail;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** INVALID_PARAMETER (60200) naming the field, in `message` and in `extensions.detail.field`. */
export function invalidParameter(field: string, why: string): AppError {
  return new AppError("INVALID_PARAMETER", `${field}: ${why}`, { detail: { field } });
}
