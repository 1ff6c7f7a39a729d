import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, the scheme Svix and others use): the
 * signature is HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${body}` with the service's secret,
 * sent as `webhook-signature: v1,<base64>`. Any Standard Webhooks library verifies it.
 */

/** A new secret: `whsec_` + base64 of 24 random bytes (the key is the bytes, not the text). */
export function newWebhookSecret(): string {
  return "whsec_" + randomBytes(24).toString("base64");
}

/** The `webhook-signature` header value for one attempt. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  return "v1," + createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
}
