import { DeliveryError } from "./channel.js";

/**
 * Twilio answers that mean "this number will not get the code", whatever we retry
 * (https://www.twilio.com/docs/api/errors). They fail the send attempt and the verification.
 */
export const TWILIO_NUMBER_ERRORS: Record<number, string> = {
  21211: "invalid 'To' phone number",
  21214: "'To' phone number cannot be reached",
  21217: "phone number does not appear to be valid",
  21408: "sending to this region is not enabled (geo permissions)",
  21215: "calling this region is not enabled (geo permissions)",
  21610: "the recipient has unsubscribed (STOP)",
  21612: "the 'To' number is not reachable via SMS",
  21614: "'To' number is not a valid mobile number",
  13224: "the number is invalid or cannot be called",
  13227: "calling this country is not enabled (geo permissions)",
};

/** Answers that mean our configuration is wrong (credentials, sender): logged loudly, not retried. */
export const TWILIO_CONFIG_ERRORS: Record<number, string> = {
  20003: "authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key)",
  20404: "resource not found: check TWILIO_ACCOUNT_SID",
  21212: "invalid 'From' number: check TWILIO_FROM",
  21606: "the 'From' number cannot send SMS: check TWILIO_FROM",
  21659: "the 'From' number is not a Twilio number: check TWILIO_FROM",
  21701: "the Messaging Service SID is invalid: check TWILIO_MESSAGING_SERVICE_SID",
};

/** Node and axios codes of a request that never got an answer: worth another try. */
const NETWORK_CODES = new Set(["ECONNABORTED", "ETIMEDOUT", "ECONNRESET", "ECONNREFUSED", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "ERR_NETWORK", "ERR_SOCKET_CONNECTION_TIMEOUT"]);

/**
 * Maps what the `twilio` SDK threw to a {@link DeliveryError}: 429 and 5xx (and timeouts, dropped
 * connections) are retryable; any other HTTP error is final, with Twilio's error number kept.
 */
export function toDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as { status?: unknown; code?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : String(err);
  if (typeof e.status === "number") {
    // RestException (legacy body { code, message, status }) or TwilioServiceException (RFC 9457).
    const code = typeof e.code === "number" ? e.code : null;
    const retryable = e.status === 429 || e.status === 408 || e.status >= 500;
    const known = code !== null ? (TWILIO_NUMBER_ERRORS[code] ?? TWILIO_CONFIG_ERRORS[code]) : undefined;
    return new DeliveryError(`Twilio ${e.status}${code !== null ? ` ${code}` : ""}: ${known ?? message}`, retryable, code, e.status);
  }
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) {
    return new DeliveryError(`Twilio unreachable (${e.code}): ${message}`, true);
  }
  // An answer we could not read (a proxy's HTML page, a bug): try again, within the attempt budget.
  return new DeliveryError(`Twilio request failed: ${message}`, true);
}
