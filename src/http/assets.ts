import type { Request, Response } from "express";
import { createHash } from "node:crypto";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/**
 * A response body held in memory in every encoding it is offered in, with a validator: pages and
 * bundles are sent compressed (brotli, else gzip, as the client accepts) and revalidated by ETag, never
 * compressed per request.
 */
export interface Asset {
  type: string;
  /** Weak validator: the same for every encoding of one content (RFC 9110 §8.8.1). */
  etag: string;
  cacheControl: string;
  identity: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

/** Bundles are content-hashed: a browser may keep them for a year. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** Pages name the current bundles: a browser asks again each time (a 304 when nothing changed). */
export const REVALIDATE = "no-cache";

export function etagOf(body: Buffer): string {
  return `W/"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

/** An asset from text generated in-process (an HTML page), compressed once here. */
export function assetFromText(type: string, text: string, cacheControl = REVALIDATE): Asset {
  const identity = Buffer.from(text, "utf8");
  return {
    type,
    etag: etagOf(identity),
    cacheControl,
    identity,
    gzip: gzipSync(identity, { level: 9 }),
    br: brotliCompressSync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  };
}

/**
 * Sends an asset: 304 when If-None-Match names it, else the smallest encoding the client accepts, with
 * `Vary: Accept-Encoding` so caches keep the encodings apart.
 */
export function sendAsset(req: Request, res: Response, asset: Asset, extraHeaders: Record<string, string> = {}): void {
  res.setHeader("Vary", "Accept-Encoding");
  res.setHeader("ETag", asset.etag);
  res.setHeader("Cache-Control", asset.cacheControl);
  res.setHeader("X-Content-Type-Options", "nosniff");
  for (const [k, v] of Object.entries(extraHeaders)) res.setHeader(k, v);
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch && ifNoneMatch.split(",").some((t) => t.trim() === asset.etag || t.trim() === "*")) {
    res.status(304).end();
    return;
  }
  const offered = [asset.br ? "br" : null, asset.gzip ? "gzip" : null, "identity"].filter((e): e is string => e !== null);
  const encoding = req.acceptsEncodings(offered) || "identity";
  const body = encoding === "br" ? asset.br! : encoding === "gzip" ? asset.gzip! : asset.identity;
  if (encoding !== "identity") res.setHeader("Content-Encoding", encoding);
  res.setHeader("Content-Type", asset.type);
  res.setHeader("Content-Length", String(body.length));
  res.status(200).end(req.method === "HEAD" ? undefined : body);
}
