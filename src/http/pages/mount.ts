import type { Request, Router } from "express";
import type { AppServices } from "../../graphql/context.js";
import { mountConsentExport } from "../consent-export.js";
import type { WebBundles } from "../web-bundles.js";
import { adminPage } from "./admin.js";
import { demoPage, mountDemoOutbox, type DemoSetup } from "./demo.js";
import { graphiqlPage } from "./graphiql.js";
import { pageHandler } from "./html.js";

export interface PagesDeps {
  bundles: WebBundles;
  app: AppServices;
  /** The demo page's service and key; null when DEMO_PAGE is off. */
  demo: DemoSetup | null;
  /** Show the development outbox panel on /demo (outbox delivery, not production). */
  outboxPanel: boolean;
}

/** The browser-facing routes: bundles, GraphiQL (GET /graphql from a browser), /demo, /admin, exports. */
export function mountPages(router: Router, d: PagesDeps): void {
  d.bundles.mount(router);
  const graphiql = pageHandler(graphiqlPage, d.bundles);
  router.get("/graphql", (req, res, next) => (wantsHtml(req) ? graphiql(req, res, next) : next()));
  router.get("/admin", pageHandler(adminPage, d.bundles));
  mountConsentExport(router, { apiKeys: d.app.apiKeys, consent: d.app.consent });
  if (d.demo) {
    const demo = d.demo;
    router.get("/demo", pageHandler(() => demoPage(demo, d.outboxPanel && d.app.outbox !== null), d.bundles));
    if (d.outboxPanel && d.app.outbox) mountDemoOutbox(router, demo, d.app.outbox);
  }
}

/** A browser navigating to /graphql (not a GraphQL GET, which carries ?query=). */
function wantsHtml(req: Request): boolean {
  return req.query.query === undefined && (req.headers.accept ?? "").includes("text/html");
}
