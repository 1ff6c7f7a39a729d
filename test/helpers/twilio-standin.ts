import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";

/**
 * A local HTTP server standing in for Twilio's REST API (Messages.json and Calls.json under
 * /2010-04-01/Accounts/{sid}/), so the real `twilio` SDK can be driven end to end without leaving the
 * machine. It checks Basic auth and required fields like Twilio, records every request exactly as it
 * arrived, honours `I-Twilio-Idempotency-Token` (a repeated token gets the resource created the first
 * time, and nothing new is created), and plays scripted faults in arrival order. It can also act as
 * Twilio's callback sender, signing status callbacks with the auth token.
 */

export const STANDIN_ACCOUNT_SID = "AC" + "0123456789abcdef".repeat(2);
export const STANDIN_AUTH_TOKEN = "standin-auth-token-0123456789abcdef";

/** One request as it reached the stand-in. */
export interface RecordedRequest {
  method: string;
  path: string;
  kind: "Messages" | "Calls" | "other";
  /** Decoded Basic credentials, or null. */
  user: string | null;
  password: string | null;
  idempotencyToken: string | null;
  contentType: string | undefined;
  userAgent: string | undefined;
  form: Record<string, string | string[]>;
}

/** A message or call the stand-in "created". */
export interface StandinResource {
  sid: string;
  kind: "Messages" | "Calls";
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string | null;
  twiml: string | null;
  statusCallback: string | null;
  idempotencyToken: string | null;
}

/** What the next request gets instead of a plain success (scripted in arrival order). */
export type Fault =
  /** An error answer with Twilio's JSON body { code, message, more_info, status }. */
  | { status: number; code?: number; message?: string }
  /** Processed (created) at once, answered after `delayMs`: a slow Twilio or a lost response. */
  | { delayMs: number }
  /** Processed, never answered (until close): a process that dies mid-send sees this. */
  | { hang: true };

export class TwilioStandin {
  readonly requests: RecordedRequest[] = [];
  readonly created: StandinResource[] = [];
  private readonly byToken = new Map<string, StandinResource>();
  private readonly faults: Fault[] = [];
  private readonly events = new EventEmitter();
  private readonly held = new Set<ServerResponse>();
  private server: Server | null = null;
  url = "";

  constructor(
    readonly accountSid = STANDIN_ACCOUNT_SID,
    readonly authToken = STANDIN_AUTH_TOKEN,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Drops every request held by a `hang` or `delayMs` fault: the client sees the connection reset. */
  release(): void {
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Scripts the answers to the next requests, in order; later requests succeed. */
  fail(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Resolves once `n` requests have arrived in all (they are recorded before any fault is played). */
  waitForRequests(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off("request", onRequest);
        reject(new Error(`stand-in: ${this.requests.length} of ${n} requests after ${timeoutMs} ms`));
      }, timeoutMs);
      const onRequest = () => {
        if (this.requests.length < n) return;
        clearTimeout(timer);
        this.events.off("request", onRequest);
        resolve();
      };
      this.events.on("request", onRequest);
    });
  }

  /**
   * Sends a status callback for `resource` the way Twilio does: form-encoded, signed with the auth
   * token over the resource's StatusCallback URL (PUBLIC_URL-based, as Twilio saw it), delivered to
   * `appUrl` (where the app really listens). `signWith` forges the signature with another token.
   */
  async statusCallback(appUrl: string, resource: StandinResource, params: Record<string, string>, opts: { signWith?: string; signature?: string | null } = {}): Promise<Response> {
    if (!resource.statusCallback) throw new Error("stand-in: the resource asked for no status callback");
    const base: Record<string, string> =
      resource.kind === "Messages"
        ? { AccountSid: this.accountSid, MessageSid: resource.sid, SmsSid: resource.sid, From: resource.from ?? "", To: resource.to, ApiVersion: "2010-04-01" }
        : { AccountSid: this.accountSid, CallSid: resource.sid, From: resource.from ?? "", To: resource.to, Direction: "outbound-api", ApiVersion: "2010-04-01" };
    const form = { ...base, ...params };
    const signed = new URL(resource.statusCallback);
    const signature = opts.signature !== undefined ? opts.signature : twilio.getExpectedTwilioSignature(opts.signWith ?? this.authToken, resource.statusCallback, form);
    return fetch(appUrl + signed.pathname + signed.search, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...(signature !== null ? { "x-twilio-signature": signature } : {}) },
      body: new URLSearchParams(form).toString(),
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? "").split("?")[0]!;
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) {
      const prev = form[k];
      form[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const [user, password] = basicAuth(req.headers.authorization);
    const m = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/(Messages|Calls)\.json$/.exec(path);
    const rec: RecordedRequest = {
      method: req.method ?? "",
      path,
      kind: m ? (m[2] as "Messages" | "Calls") : "other",
      user,
      password,
      idempotencyToken: header(req, "i-twilio-idempotency-token"),
      contentType: req.headers["content-type"],
      userAgent: req.headers["user-agent"],
      form,
    };
    this.requests.push(rec);
    this.events.emit("request");

    if (!m || req.method !== "POST") return this.error(res, 404, 20404, "The requested resource was not found");
    if (user !== this.accountSid || password !== this.authToken || m[1] !== this.accountSid) {
      return this.error(res, 401, 20003, "Authenticate");
    }
    const fault = this.faults.shift();
    if (fault && "status" in fault) return this.error(res, fault.status, fault.code ?? fault.status * 100, fault.message ?? `scripted ${fault.status}`);

    const invalid = this.validate(rec.kind as "Messages" | "Calls", form);
    if (invalid) return this.error(res, 400, invalid.code, invalid.message);
    const resource = this.createOnce(rec);
    const body = JSON.stringify(this.render(resource));
    if (fault && "hang" in fault) {
      this.held.add(res);
      return;
    }
    if (fault && "delayMs" in fault) {
      this.held.add(res);
      await new Promise((r) => setTimeout(r, fault.delayMs).unref());
      this.held.delete(res);
    }
    if (res.destroyed) return;
    res.writeHead(201, { "content-type": "application/json" }).end(body);
  }

  /** Idempotency: the first request with a token creates; repeats get that same resource back. */
  private createOnce(rec: RecordedRequest): StandinResource {
    const known = rec.idempotencyToken ? this.byToken.get(rec.idempotencyToken) : undefined;
    if (known) return known;
    const f = (k: string) => (typeof rec.form[k] === "string" ? (rec.form[k] as string) : null);
    const kind = rec.kind as "Messages" | "Calls";
    const resource: StandinResource = {
      sid: (kind === "Messages" ? "SM" : "CA") + randomBytes(16).toString("hex"),
      kind,
      to: f("To")!,
      from: f("From"),
      messagingServiceSid: f("MessagingServiceSid"),
      body: f("Body"),
      twiml: f("Twiml"),
      statusCallback: f("StatusCallback"),
      idempotencyToken: rec.idempotencyToken,
    };
    this.created.push(resource);
    if (rec.idempotencyToken) this.byToken.set(rec.idempotencyToken, resource);
    return resource;
  }

  private validate(kind: "Messages" | "Calls", form: Record<string, string | string[]>): { code: number; message: string } | null {
    if (!form.To) return { code: 21604, message: "A 'To' phone number is required." };
    if (kind === "Messages") {
      if (!form.From && !form.MessagingServiceSid) return { code: 21603, message: "A 'From' phone number is required." };
      if (!form.Body) return { code: 21602, message: "Message body is required." };
    } else {
      if (!form.From) return { code: 21603, message: "A 'From' phone number is required." };
      if (!form.Twiml && !form.Url) return { code: 21205, message: "Url or Twiml is required." };
    }
    return null;
  }

  private render(r: StandinResource): Record<string, unknown> {
    const common = { sid: r.sid, account_sid: this.accountSid, to: r.to, from: r.from, status: "queued", api_version: "2010-04-01", date_created: new Date().toUTCString() };
    if (r.kind === "Calls") return { ...common, direction: "outbound-api", uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${r.sid}.json` };
    return { ...common, body: r.body, messaging_service_sid: r.messagingServiceSid, num_segments: "1", direction: "outbound-api", price: null, price_unit: "USD", error_code: null, uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${r.sid}.json` };
  }

  private error(res: ServerResponse, status: number, code: number, message: string): void {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
  }
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === "string" ? v : null;
}

function basicAuth(h: string | undefined): [string | null, string | null] {
  if (!h?.startsWith("Basic ")) return [null, null];
  const decoded = Buffer.from(h.slice(6), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  return i < 0 ? [decoded, null] : [decoded.slice(0, i), decoded.slice(i + 1)];
}

/** The env that points an app at a stand-in: credentials, sender, callbacks URL and base URL. */
export function twilioEnv(standin: TwilioStandin, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: standin.accountSid,
    TWILIO_AUTH_TOKEN: standin.authToken,
    TWILIO_FROM: "+15005550006",
    TWILIO_API_BASE_URL: standin.url,
    PUBLIC_URL: "https://verify.example.test",
    ...extra,
  };
}
