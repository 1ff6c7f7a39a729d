import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * Sealing a code into its delivery job. The job must carry the code until the worker has sent it, and
 * the database never holds a code in clear, so the job keeps it under AES-256-GCM with a key derived
 * from CODE_SECRET (HKDF-SHA256, its own `info` so it is never the key of the codes' HMAC). The job id
 * is the additional authenticated data: a sealed code copied into another row does not open.
 * A dump of the database without CODE_SECRET yields no code, as with `code_seed`.
 */

const VERSION = "v1";
const keys = new Map<string, Buffer>();

function keyFor(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = Buffer.from(hkdfSync("sha256", secret, "verify-guard", "delivery-job-code:v1", 32));
    keys.set(secret, key);
  }
  return key;
}

/** `v1.<iv>.<tag>.<ciphertext>` (base64url), bound to `jobId`. */
export function sealCode(secret: string, jobId: string, code: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFor(secret), iv);
  cipher.setAAD(Buffer.from(jobId));
  const ct = Buffer.concat([cipher.update(code, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

/** Opens what {@link sealCode} sealed for the same job; throws on a wrong key, job or tampering. */
export function openCode(secret: string, jobId: string, sealed: string): string {
  const [version, iv, tag, ct] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error("sealed code: unknown format");
  const decipher = createDecipheriv("aes-256-gcm", keyFor(secret), Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(jobId));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}
