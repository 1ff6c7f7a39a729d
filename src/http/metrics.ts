import express, { type Request, type Response } from "express";
import { createServer, type Server } from "node:http";
import { timingSafeEqual } from "node:crypto";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";

export const METRICS_PATH = "/metrics";

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** Bearer token a scraper must send (METRICS_TOKEN); null = none asked. */
  token: string | null;
  log: Logger;
}

/**
 * `GET /metrics` in Prometheus text format. With a token, a scrape must send
 * `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time); anything else gets 401.
 */
export function metricsHandler(o: MetricsRouteOptions) {
  const expected = o.token ? Buffer.from(`Bearer ${o.token}`) : null;
  return async (req: Request, res: Response): Promise<void> => {
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.status(401).set("www-authenticate", 'Bearer realm="metrics"').type("text/plain").send("Unauthorized");
        return;
      }
    }
    try {
      const body = await o.metrics.render();
      res.set("content-type", o.metrics.registry.contentType).send(body);
    } catch (err) {
      o.log.error("metrics: rendering failed", { error: String(err) });
      res.status(500).type("text/plain").send("metrics unavailable");
    }
  };
}

/** Mounts `/metrics` on a router of the main server. */
export function mountMetrics(router: express.Router, o: MetricsRouteOptions): void {
  router.get(METRICS_PATH, metricsHandler(o));
}

/**
 * A separate listener that serves only `/metrics` (METRICS_PORT): scrapers reach it on an internal
 * interface while the main port faces the internet without it.
 */
export function createMetricsServer(o: MetricsRouteOptions): Server {
  const app = express();
  app.disable("x-powered-by");
  app.get(METRICS_PATH, metricsHandler(o));
  app.use((_req, res) => {
    res.status(404).type("text/plain").send("Not found");
  });
  return createServer(app);
}
