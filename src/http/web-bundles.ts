import type { Router } from "express";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IMMUTABLE, etagOf, sendAsset, type Asset } from "./assets.js";

/**
 * The browser bundles `scripts/build-web.mjs` wrote into `dist/web` (by `npm run build`, and before the
 * tests): each page's script and stylesheet, content-hashed, precompressed. Served under /assets/ with
 * a year of caching; pages link to them by their hashed names.
 */
export type PageName = "graphiql" | "demo" | "admin";

export interface WebBundles {
  /** The /assets/ URLs of a page's script and stylesheet; null when the bundles were never built. */
  urls(page: PageName): { js: string; css: string | null } | null;
  /** Mounts GET /assets/:file. */
  mount(router: Router): void;
}

interface Manifest {
  pages: Partial<Record<PageName, { js: string; css?: string }>>;
}

/** dist/web of the checkout this module runs from (src/ under vitest, dist/src/ when built). */
export function findWebDir(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "dist", "web");
    if (existsSync(join(candidate, "manifest.json"))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

export function loadWebBundles(dir: string | null = findWebDir()): WebBundles {
  const manifest: Manifest | null = dir ? (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest) : null;
  const files = new Set(Object.values(manifest?.pages ?? {}).flatMap((p) => [p.js, p.css].filter((f): f is string => !!f)));
  const cache = new Map<string, Asset>();
  // Read on first use: a server that never serves a page never reads its megabytes.
  const asset = (file: string): Asset => {
    let a = cache.get(file);
    if (!a) {
      const path = join(dir!, file);
      const identity = readFileSync(path);
      const read = (ext: string) => (existsSync(path + ext) ? readFileSync(path + ext) : undefined);
      a = { type: file.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8", etag: etagOf(identity), cacheControl: IMMUTABLE, identity, gzip: read(".gz"), br: read(".br") };
      cache.set(file, a);
    }
    return a;
  };
  return {
    urls(page) {
      const p = manifest?.pages[page];
      return p ? { js: `/assets/${p.js}`, css: p.css ? `/assets/${p.css}` : null } : null;
    },
    mount(router) {
      router.get("/assets/:file", (req, res, next) => {
        // Only the files the manifest names: no path reaches the file system from the URL.
        if (!files.has(req.params.file)) return next();
        sendAsset(req, res, asset(req.params.file));
      });
    },
  };
}
