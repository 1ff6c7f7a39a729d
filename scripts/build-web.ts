// Bundles the browser pages (web/*/main.ts[x]) into dist/web with esbuild: one minified script (and its
// stylesheet, when it imports one) per page, content-hashed, each also written gzip- and
// brotli-compressed so the server sends them without compressing per request. manifest.json maps a
// page to its files. Run by `npm run build` and, before the tests, by test/helpers/web.global-setup.ts.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/** The checkout: the nearest folder up with package.json (this runs from scripts/ or dist/scripts/). */
function findRoot(dir = dirname(fileURLToPath(import.meta.url))): string {
  return existsSync(join(dir, "package.json")) ? dir : findRoot(dirname(dir));
}
const root = findRoot();

/** The pages: name → entry point. */
export const PAGES: Record<string, string> = { graphiql: "web/graphiql/main.tsx", demo: "web/demo/main.ts", admin: "web/admin/main.ts" };

export interface WebManifest {
  pages: Record<string, { js: string; css?: string }>;
  /** Bytes of each file: as built, gzip, brotli. */
  sizes: Record<string, { raw: number; gzip: number; br: number }>;
}

/** Builds every page into `outdir` (default dist/web) and returns the manifest. */
export async function buildWeb(outdir = join(root, "dist", "web")): Promise<WebManifest> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(PAGES).map(([name, entry]) => [name, entry])),
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    outdir,
    entryNames: "[name]-[hash]",
    define: { "process.env.NODE_ENV": '"production"' },
    jsx: "automatic",
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
  });
  const manifest: WebManifest["pages"] = {};
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    if (!out.entryPoint) continue;
    const name = Object.keys(PAGES).find((n) => PAGES[n] === out.entryPoint);
    if (!name) continue;
    manifest[name] = { js: basename(file), ...(out.cssBundle ? { css: basename(out.cssBundle) } : {}) };
  }
  const sizes: WebManifest["sizes"] = {};
  for (const file of Object.keys(result.metafile.outputs)) {
    const path = join(root, file);
    if (!/\.(js|css)$/.test(path)) continue;
    let body = readFileSync(path);
    if (path.endsWith(".css")) {
      // GraphiQL inlines its fonts (Roboto, Fira Code) in every script subset: keep the Latin ones, and
      // let Greek, Cyrillic and Vietnamese text fall back to system fonts (about 300 KB less).
      const css = body.toString("utf8").replace(/@font-face\{[^}]*unicode-range:([^;}]*)[^}]*\}/g, (rule: string, range: string) => (range.startsWith("U+0000-00FF") ? rule : ""));
      writeFileSync(path, css);
      body = Buffer.from(css);
    }
    const gz = gzipSync(body, { level: 9 });
    const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
    writeFileSync(path + ".gz", gz);
    writeFileSync(path + ".br", br);
    sizes[basename(file)] = { raw: body.length, gzip: gz.length, br: br.length };
  }
  writeFileSync(join(outdir, "manifest.json"), JSON.stringify({ pages: manifest, sizes }, null, 2) + "\n");
  return { pages: manifest, sizes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { sizes } = await buildWeb();
  for (const [file, s] of Object.entries(sizes)) {
    console.log(`web: ${file.padEnd(28)} ${(s.raw / 1024).toFixed(0).padStart(5)} KB, gzip ${(s.gzip / 1024).toFixed(0).padStart(4)} KB, brotli ${(s.br / 1024).toFixed(0).padStart(4)} KB`);
  }
}
