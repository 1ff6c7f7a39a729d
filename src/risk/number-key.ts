import { createHmac, hkdfSync } from "node:crypto";

/** Turns a phone number (E.164) into the opaque token counter and limiter keys carry instead. */
export type NumberKey = (e164: string) => string;

/**
 * Counter keys (the detectors' window counters, the limiter's per-number buckets) live in SQLite,
 * PostgreSQL or Redis, where anyone with a dump or `KEYS *` can read them. They must not list the
 * numbers that asked for codes, so a key names a number by HMAC-SHA256 under a key derived from
 * CODE_SECRET (HKDF, its own label, so it is never the codes' key). 128 bits: collisions between two
 * numbers of one service are out of reach, and without the secret a key cannot be tested against a
 * guessed number.
 */
export function numberKeyer(codeSecret: string): NumberKey {
  const key = Buffer.from(hkdfSync("sha256", codeSecret, "", "verify-guard/counter-keys/v1", 32));
  return (e164) => createHmac("sha256", key).update(e164).digest("base64url").slice(0, 22);
}
