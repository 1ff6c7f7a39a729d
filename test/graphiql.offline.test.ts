import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startServer, type TestServer } from "./helpers/harness.js";

/**
 * GraphiQL must work with no internet: the page a browser loads from /graphql may only reference
 * assets this server serves (or inlines). The test loads it as a browser would and follows every
 * script, stylesheet, icon and CSS url() it names. It is bundled from the graphiql package at build
 * time (scripts/build-web.ts), sent compressed, and revalidated by ETag.
 */
describe("GraphiQL, served offline", () => {
  let s: TestServer;
  let html: string;
  let res: Response;
  const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  beforeAll(async () => {
    s = await startServer();
    res = await fetch(s.graphqlUrl, { headers: { accept: browserAccept } });
    html = await res.text();
  });
  afterAll(async () => s?.close());

  /** Every URL the page makes the browser load: script src, link href, img src, CSS url() and @import. */
  function referencedUrls(page: string): string[] {
    // A script element's body is not markup (the browser's HTML parser skips to the next </script>):
    // drop it, so strings in it are not mistaken for tags.
    const markup = page.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, "$1</script>");
    const attr = (tag: string, name: string) =>
      [...markup.matchAll(new RegExp(`<${tag}\\b[^>]*?\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, "gi"))].map((m) => m[2] ?? m[3] ?? m[4] ?? "");
    return [...attr("script", "src"), ...attr("link", "href"), ...attr("img", "src"), ...attr("iframe", "src")];
  }
  const cssUrls = (css: string) => [...css.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi), ...css.matchAll(/@import\s+["']([^"']+)["']/gi)].map((m) => m[1]!);

  it("answers a browser's GET /graphql with the GraphiQL page", () => {
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html).toMatch(/<!doctype html>/i);
    expect(html).toContain("verify-guard GraphiQL");
    expect(html).toMatch(/<div id="graphiql"/);
  });

  it("references only assets of its own origin (or inline data:), and each one loads, stylesheets' url()s included", async () => {
    const urls = referencedUrls(html);
    expect(urls.some((u) => u.startsWith("data:image/"))).toBe(true); // the icon: the scan does find references
    const origin = new URL(s.graphqlUrl).origin;
    const scripts = urls.filter((u) => u.endsWith(".js"));
    expect(scripts).toHaveLength(1);
    for (const u of urls) {
      if (u.startsWith("data:")) continue;
      const resolved = new URL(u, s.graphqlUrl);
      expect(resolved.origin, `asset ${u}`).toBe(origin);
      const asset = await fetch(resolved);
      expect(asset.status, `asset ${u}`).toBe(200);
      const body = await asset.text();
      if (u.endsWith(".css")) {
        const inCss = cssUrls(body);
        expect(inCss.length).toBeGreaterThan(0); // GraphiQL's fonts
        for (const c of inCss) expect(c, `url() in ${u}`).toMatch(/^data:/);
      }
      if (u.endsWith(".js")) expect(body).toContain("graphql-transport-ws"); // the bundled graphql-ws client
    }
  });

  it("has no script, stylesheet or font from another host, and names no CDN", () => {
    expect(html).not.toMatch(/<script\b[^>]*\ssrc\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b[^>]*\shref\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/unpkg\.com|cdn\.jsdelivr\.net|esm\.sh|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|fonts\.gstatic\.com|embeddable-sandbox\.cdn\.apollographql\.com/i);
  });

  it("talks to this server: a relative endpoint and a header editor primed for the API key", () => {
    const config = /<script id="vg-config" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
    expect(config).not.toBeNull();
    const options = JSON.parse(config![1]!) as Record<string, unknown>;
    expect(options.endpoint).toBe("/graphql");
    expect(JSON.parse(options.headers as string)).toEqual({ Authorization: "Bearer <paste your API key>" });
  });

  it("sends the page and its bundles compressed (brotli, else gzip), weighing under 700 kB over the wire in all", async () => {
    let wire = 0;
    for (const u of [s.graphqlUrl, ...referencedUrls(html).filter((x) => !x.startsWith("data:")).map((x) => new URL(x, s.graphqlUrl).href)]) {
      for (const [accept, encoding] of [["br, gzip", "br"], ["gzip", "gzip"]] as const) {
        const r = await fetch(u, { headers: { accept: browserAccept, "accept-encoding": accept } });
        expect(r.headers.get("content-encoding"), u).toBe(encoding);
        expect(r.headers.get("vary")).toMatch(/accept-encoding/i);
        // fetch decodes; Content-Length is what crossed the wire.
        if (encoding === "br") wire += Number(r.headers.get("content-length"));
        await r.arrayBuffer();
      }
    }
    expect(wire).toBeGreaterThan(100_000); // GraphiQL is in there
    expect(wire).toBeLessThan(700_000); // it was 9 MB, uncompressed
  });

  it("is cached with an ETag: a revalidation answers 304 without a body", async () => {
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^W\/"[\w-]+"$/);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const again = await fetch(s.graphqlUrl, { headers: { accept: browserAccept, "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const script = referencedUrls(html).find((u) => u.endsWith(".js"))!;
    const first = await fetch(new URL(script, s.graphqlUrl));
    expect(first.headers.get("cache-control")).toMatch(/immutable/);
    const revalidated = await fetch(new URL(script, s.graphqlUrl), { headers: { "if-none-match": first.headers.get("etag")! } });
    expect(revalidated.status).toBe(304);
  });

  it("still answers GraphQL (not the page) to a request that asks for JSON", async () => {
    const r = await fetch(`${s.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, {
      headers: { accept: "application/json", "apollo-require-preflight": "1", authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(r.headers.get("content-type")).toMatch(/json/);
    expect(await r.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("serves no file the build did not list under /assets/", async () => {
    for (const path of ["/assets/manifest.json", "/assets/..%2Fmanifest.json", "/assets/%2e%2e%2f%2e%2e%2fpackage.json"]) {
      expect((await fetch(`${s.url}${path}`)).status, path).toBe(404);
    }
  });
});

describe("health", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it("answers GET /healthz with 200 and status ok, without a key", async () => {
    const r = await fetch(`${s.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok" });
  });

  it("answers GET /readyz with 200 while the database answers, and 503 once it does not", async () => {
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", store: { dialect: "sqlite", bytes: expect.any(Number) } });

    await s.app.services.store.close();
    const down = await fetch(`${s.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: "unavailable" });
  });
});
