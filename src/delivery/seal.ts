import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * Sealing a code into its delivery job. The job must carry the code until the worker has sent it, and
 * the database never holds a code in clear, so the job keeps it under AES-256-GCM with a key derived
 * from CODE_SECRET (HKDF-SHA256, its own `info` so it is never the key of the codes' HMAC). The job id
 * is the additional authenticated data: a sealed code copied into another row does not open.
 * A dump of the database without CODE_SECRET yields no code, as with `code_seed`.
 *
 * The same scheme, under its own derived key, seals the approval tokens' private signing keys
 * (verification/approval-tokens.ts), bound to their key id.
 */

const VERSION = "v1";
const keys = new Map<string, Buffer>();

/** What a sealed value is for: each purpose has its own key (HKDF `info`), so no key serves two. */
export type SealPurpose = "delivery-job-code:v1" | "approval-signing-key:v1" | "webhook-secret:v1";

function keyFor(secret: string, purpose: SealPurpose): Buffer {
  const id = `${purpose}\0${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = Buffer.from(hkdfSync("sha256", secret, "verify-guard", purpose, 32));
    keys.set(id, key);
  }
  return key;
}

/** `v1.<iv>.<tag>.<ciphertext>` (base64url) under the purpose's key, bound to `aad` (a row's id). */
export function seal(secret: string, purpose: SealPurpose, aad: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFor(secret, purpose), iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

/** Opens what {@link seal} sealed for the same purpose and `aad`; throws on a wrong key, row or tampering. */
export function unseal(secret: string, purpose: SealPurpose, aad: string, sealed: string): string {
  const [version, iv, tag, ct] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error("sealed value: unknown format");
  const decipher = createDecipheriv("aes-256-gcm", keyFor(secret, purpose), Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}

/** Seals a code into its delivery job, bound to `jobId`. */
export function sealCode(secret: string, jobId: string, code: string): string {
  return seal(secret, "delivery-job-code:v1", jobId, code);
}

/** Opens what {@link sealCode} sealed for the same job. */
export function openCode(secret: string, jobId: string, sealed: string): string {
  return unseal(secret, "delivery-job-code:v1", jobId, sealed);
}
