import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { ADMIN_KEY, createCoreService, freshMobile, START, startServer, type TestServer } from "./helpers/harness.js";
import { TwilioStandin, twilioEnv } from "./helpers/twilio-standin.js";

type Line = Record<string, unknown>;

/**
 * Structured logs: one request id follows a code from the HTTP request that started it, through the
 * delivery job that sent it, to Twilio's status callback; LOG_LEVEL is respected; numbers are masked.
 */
describe("structured logs", () => {
  const standin = new TwilioStandin();
  const lines: Line[] = [];
  let s: TestServer;
  let serviceId: string;

  beforeAll(async () => {
    await standin.start();
    s = await startServer({ env: twilioEnv(standin), log: createLogger("debug", (l) => lines.push(JSON.parse(l) as Line)) });
    serviceId = await createCoreService(s);
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
  });

  it("carries the request id from HTTP to the delivery job to the status callback", async () => {
    const to = freshMobile();
    const requestId = "req-e2e-0123456789";
    const res = await fetch(s.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}`, "x-request-id": requestId },
      body: JSON.stringify({ query: START, variables: { input: { serviceId, to, channel: "SMS" } } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe(requestId);
    await s.app.dispatcher.idle();
    const resource = standin.created.find((r) => r.to === to)!;
    await standin.statusCallback(s.url, resource, { MessageStatus: "delivered" });

    const mine = lines.filter((l) => l.requestId === requestId);
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(["delivery: sent", "delivery: status callback"]));
    const callback = mine.find((l) => l.msg === "delivery: status callback")!;
    expect(callback).toMatchObject({ level: "info", status: "delivered" });
    // Numbers are masked everywhere, fields and messages alike.
    expect(JSON.stringify(lines)).not.toContain(to);
    expect(mine.find((l) => l.msg === "delivery: sent")!.to).toBe(to.slice(0, 3) + "*".repeat(to.length - 5) + to.slice(-2));
  });

  it("makes up a request id when the caller sends none (or an unusable one) and answers with it", async () => {
    const a = await fetch(`${s.url}/healthz`);
    expect(a.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const b = await fetch(`${s.url}/healthz`, { headers: { "x-request-id": "bad id with spaces <script>" } });
    expect(b.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("names the request id in an INTERNAL error and in its log line", async () => {
    const broken: Line[] = [];
    const b = await startServer({ log: createLogger("error", (l) => broken.push(JSON.parse(l) as Line)) });
    try {
      const sid = await createCoreService(b);
      // The decision log's table is gone: the start fails inside, as a real database fault would.
      const db = new Database(b.dbFile);
      db.pragma("foreign_keys = OFF");
      db.exec("drop table risk_decisions");
      db.close();
      const requestId = "req-internal-0123456789";
      const res = await fetch(b.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}`, "x-request-id": requestId },
        body: JSON.stringify({ query: START, variables: { input: { serviceId: sid, to: freshMobile(), channel: "SMS" } } }),
      });
      const body = (await res.json()) as { errors: { extensions: { code: string; requestId: string } }[] };
      expect(body.errors[0]!.extensions).toMatchObject({ code: "INTERNAL", requestId });
      expect(broken.find((l) => l.msg === "unhandled error" && l.requestId === requestId)).toBeDefined();
    } finally {
      await b.close();
    }
  });
});

describe("createLogger", () => {
  it("respects the level: below it nothing is written", () => {
    const out: string[] = [];
    const log = createLogger("warn", (l) => out.push(l));
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(out.map((l) => (JSON.parse(l) as Line).level)).toEqual(["warn", "error"]);
    const silent: string[] = [];
    createLogger("silent", (l) => silent.push(l)).error("x");
    expect(silent).toEqual([]);
  });

  it("masks numbers in number-named fields, one level down, and inside text", () => {
    const out: Line[] = [];
    createLogger("info", (l) => out.push(JSON.parse(l) as Line)).info("sending to +447400123456", {
      to: "+447400123456",
      request: { phone: "+14155552671" },
      error: "Twilio 400 21211: invalid 'To' +33612345678",
    });
    expect(out[0]).toMatchObject({
      msg: "sending to +44********56",
      to: "+44********56",
      request: { phone: "+14*******71" },
      error: "Twilio 400 21211: invalid 'To' +33*******78",
    });
  });
});
