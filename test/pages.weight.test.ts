import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "./helpers/harness.js";

/**
 * What each page costs a browser on a first visit: the HTML and every script and stylesheet it loads,
 * as sent (brotli) and as built. The budgets keep a charting library or a second copy of React from
 * slipping in unnoticed; docs/browser.md reports the figures.
 */
const BUDGET_BR = { "/demo": 30_000, "/admin": 30_000, "/graphql": 700_000 };

describe("page weight", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { DEMO_PAGE: "on" } });
  });
  afterAll(async () => s?.close());

  async function weigh(path: string): Promise<{ br: number; raw: number }> {
    const get = async (url: string) => {
      const br = await fetch(url, { headers: { accept: "text/html", "accept-encoding": "br" } });
      const sent = Number(br.headers.get("content-length"));
      const body = await br.text();
      const plain = await fetch(url, { headers: { accept: "text/html", "accept-encoding": "identity" } });
      return { sent, raw: Number(plain.headers.get("content-length")), body: (await plain.text(), body) };
    };
    const page = await get(`${s.url}${path}`);
    const assets = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2); // a script and a stylesheet
    let br = page.sent;
    let raw = page.raw;
    for (const a of assets) {
      const w = await get(`${s.url}${a}`);
      br += w.sent;
      raw += w.raw;
    }
    return { br, raw };
  }

  it.each(Object.entries(BUDGET_BR))("keeps %s within its budget over the wire", async (path, budget) => {
    const w = await weigh(path);
    if (process.env.VG_PRINT_WEIGHTS) console.log(`${path}: ${w.br} B brotli, ${w.raw} B as built`);
    expect(w.br).toBeLessThan(budget);
    expect(w.raw).toBeGreaterThan(w.br); // it was compressed
  });
});
