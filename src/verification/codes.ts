import { createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/**
 * One-time codes. A code is never stored: the row keeps a keyed hash (to check) and, for generated
 * codes, a random seed from which the code is re-derived with the server secret (to resend the same
 * code, as Twilio does). A database dump without CODE_SECRET yields neither.
 */

/** A fresh 128-bit seed from the CSPRNG. */
export function newCodeSeed(): string {
  return randomBytes(16).toString("hex");
}

/**
 * The code for a seed: HMAC-SHA256(secret, "code:" + seed) read as a 64-bit integer, mod 10^length.
 * HMAC is a PRF under a random key, so the digits are as unpredictable as the seed; the modulo bias
 * over 2^64 is below 10^-9 for 10 digits.
 */
export function deriveCode(secret: string, seed: string, length: number): string {
  const mac = createHmac("sha256", secret).update("code:" + seed).digest();
  const n = mac.readBigUInt64BE(0) % 10n ** BigInt(length);
  return n.toString().padStart(length, "0");
}

/** A code straight from the CSPRNG (used where no resend is needed, e.g. tests and benchmarks). */
export function randomCode(length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String(randomInt(10));
  return s;
}

/** The stored form: HMAC-SHA256(secret, verificationId + ":" + code), hex. Binding the id stops reuse across rows. */
export function hashCode(secret: string, verificationId: string, code: string): string {
  return createHmac("sha256", secret).update(`${verificationId}:${code}`).digest("hex");
}

/** Constant-time comparison of two hex digests (same length by construction). */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Custom codes: digits only, 4 to 10 long (Twilio allows alphanumerics; we keep codes speakable). */
export const CUSTOM_CODE_RE = /^[0-9]{4,10}$/;
