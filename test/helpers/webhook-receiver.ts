import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a {@link WebhookReceiver} got, as it arrived. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (0 = held, never answered). */
  answered: number;
}

/**
 * A local HTTP endpoint standing in for a customer's webhook receiver: records every request with its
 * raw body (what was signed), and answers with the status `respond` picks (200 by default), or holds
 * the request open (`"hang"`) like a dead endpoint.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  respond: (r: ReceivedWebhook, n: number) => number | "hang" = () => 200;
  private server: Server | null = null;
  private readonly held = new Set<ServerResponse>();
  url = "";

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const r: ReceivedWebhook = {
        id: String(req.headers["webhook-id"] ?? ""),
        timestamp: String(req.headers["webhook-timestamp"] ?? ""),
        signature: String(req.headers["webhook-signature"] ?? ""),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        answered: 0,
      };
      this.received.push(r);
      const status = this.respond(r, this.received.length);
      if (status === "hang") {
        this.held.add(res);
        return;
      }
      r.answered = status;
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "nope");
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this.url;
  }

  /** Requests answered 2xx, in arrival order. */
  delivered(): ReceivedWebhook[] {
    return this.received.filter((r) => r.answered >= 200 && r.answered < 300);
  }

  /** The `type` of each delivered body, in order. */
  types(): string[] {
    return this.delivered().map((r) => (JSON.parse(r.body) as { type: string }).type);
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
