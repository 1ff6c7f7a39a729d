import type { Request, Response } from "express";
import { assetFromText, sendAsset, type Asset } from "../assets.js";
import type { PageName, WebBundles } from "../web-bundles.js";

/**
 * The HTML around a bundled page: its stylesheet and script from /assets/, its configuration as JSON
 * in a non-executable script element (so the Content-Security-Policy needs no inline script), and
 * server-rendered markup that works before the script runs.
 */
export interface PageSpec {
  page: PageName;
  title: string;
  /** Read by the page's script (web/shared/api.ts readConfig). */
  config: unknown;
  /** The <body> contents. */
  body: string;
}

/**
 * Pages load only what this server serves: no CDN, no inline script. Styles may be inline (GraphiQL's
 * React components set style attributes); fonts and icons may be data: URLs.
 */
export const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
};

const ICON = "data:image/svg+xml," + encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d4ed8"/><path d="M4 8.5l2.5 2.5L12 5.5" stroke="#fff" stroke-width="2" fill="none"/></svg>`);

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderPage(spec: PageSpec, bundles: WebBundles): string | null {
  const urls = bundles.urls(spec.page);
  if (!urls) return null;
  // JSON in a script element: "<" escaped, so no "</script>" can end it early.
  const config = JSON.stringify(spec.config).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(spec.title)}</title>
<link rel="icon" href="${ICON}">
${urls.css ? `<link rel="stylesheet" href="${urls.css}">\n` : ""}<script id="vg-config" type="application/json">${config}</script>
<script defer src="${urls.js}"></script>
</head>
<body>
${spec.body}
</body>
</html>
`;
}

/**
 * A GET handler for a page rendered once, on first request (its config is fixed for the process), then
 * sent compressed with an ETag. Without bundles (dist/web not built) it answers 503 and says why.
 */
export function pageHandler(render: () => Promise<PageSpec> | PageSpec, bundles: WebBundles) {
  let asset: Promise<Asset | null> | null = null;
  return async (req: Request, res: Response, next: (err?: unknown) => void): Promise<void> => {
    try {
      asset ??= Promise.resolve(render()).then((spec) => {
        const html = renderPage(spec, bundles);
        return html === null ? null : assetFromText("text/html; charset=utf-8", html);
      });
      const a = await asset.catch((err: unknown) => {
        asset = null; // try again on the next request
        throw err;
      });
      if (!a) {
        res.status(503).type("text/plain").send("This page is not built: run `npm run build` (it bundles web/ into dist/web).\n");
        return;
      }
      sendAsset(req, res, a, PAGE_HEADERS);
    } catch (err) {
      next(err);
    }
  };
}
