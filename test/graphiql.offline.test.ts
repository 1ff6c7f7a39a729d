import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startServer, type TestServer } from "./helpers/harness.js";

/**
 * GraphiQL must work with no internet: the page a browser loads from /graphql may only reference
 * assets this server serves (or inlines). The test loads it as a browser would and follows every
 * script, stylesheet, icon and CSS url() it names.
 */
describe("GraphiQL, served offline", () => {
  let s: TestServer;
  let html: string;
  let res: Response;
  beforeAll(async () => {
    s = await startServer();
    res = await fetch(s.graphqlUrl, { headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
    html = await res.text();
  });
  afterAll(async () => s?.close());

  /** Every URL the page makes the browser load: script src, link href, img src, CSS url() and @import. */
  function referencedUrls(page: string): string[] {
    // A script element's body is JavaScript, not markup (the browser's HTML parser skips to the next
    // </script>): drop it, so strings in the inlined bundle are not mistaken for tags.
    const markup = page.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, "$1</script>");
    const attr = (tag: string, name: string) =>
      [...markup.matchAll(new RegExp(`<${tag}\\b[^>]*?\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, "gi"))].map((m) => m[2] ?? m[3] ?? m[4] ?? "");
    const styles = [...markup.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]!).join("\n");
    const cssUrls = [...styles.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi), ...styles.matchAll(/@import\s+["']([^"']+)["']/gi)].map((m) => m[1]!);
    return [...attr("script", "src"), ...attr("link", "href"), ...attr("img", "src"), ...attr("iframe", "src"), ...cssUrls];
  }

  it("answers a browser's GET /graphql with the GraphiQL page", () => {
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html).toMatch(/<!doctype html>/i);
    expect(html).toContain("verify-guard GraphiQL");
    // The app itself is in the page (inlined from node_modules), not fetched from elsewhere.
    expect(html).toContain("renderYogaGraphiQL");
    expect(html.length).toBeGreaterThan(1_000_000);
  });

  it("references only assets of its own origin (or inline data:), and each one loads", async () => {
    const urls = referencedUrls(html);
    expect(urls.length).toBeGreaterThan(0); // at least the icon: the scan does find references
    expect(urls.some((u) => u.startsWith("data:image/"))).toBe(true);
    const origin = new URL(s.graphqlUrl).origin;
    for (const u of urls) {
      if (u.startsWith("data:") || u.startsWith("blob:")) continue;
      const resolved = new URL(u, s.graphqlUrl);
      expect(resolved.origin, `asset ${u}`).toBe(origin);
      const asset = await fetch(resolved);
      expect(asset.status, `asset ${u}`).toBe(200);
    }
  });

  it("has no script, stylesheet or font from another host, and names no CDN", () => {
    expect(html).not.toMatch(/<script\b[^>]*\ssrc\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b[^>]*\shref\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\/[^)]*\.(woff2?|ttf|otf|css)/i);
    expect(html).not.toMatch(/@import\s+(url\()?["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/unpkg\.com|cdn\.jsdelivr\.net|esm\.sh|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|fonts\.gstatic\.com|embeddable-sandbox\.cdn\.apollographql\.com/i);
  });

  it("talks to this server: a relative endpoint, WebSocket subscriptions, and a header editor primed for the API key", () => {
    const config = /renderYogaGraphiQL\(\s*[^,]+,\s*(\{[\s\S]*?\})\s*,?\s*\);/.exec(html);
    expect(config).not.toBeNull();
    const options = JSON.parse(config![1]!) as Record<string, unknown>;
    expect(options.endpoint).toBe("/graphql");
    expect(options.subscriptionsProtocol).toBe("WS");
    expect(options.isHeadersEditorEnabled).toBe(true);
    expect(JSON.parse(options.headers as string)).toEqual({ Authorization: "Bearer <paste your API key>" });
  });

  it("still answers GraphQL (not the page) to a request that asks for JSON", async () => {
    const r = await fetch(`${s.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, {
      headers: { accept: "application/json", "apollo-require-preflight": "1", authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(r.headers.get("content-type")).toMatch(/json/);
    expect(await r.json()).toEqual({ data: { __typename: "Query" } });
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
    expect(await ready.json()).toEqual({ status: "ready" });

    await s.app.services.store.close();
    const down = await fetch(`${s.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: "unavailable" });
  });
});
