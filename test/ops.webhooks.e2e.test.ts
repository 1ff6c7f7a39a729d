import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { CANCEL, CREATE_SERVICE, START, VERIFICATION, createCoreService, errorOf, freshMobile, latestCode, ok, queryDb, startServer, startVerification, CHECK, type TestServer } from "./helpers/harness.js";
import { TwilioStandin, twilioEnv } from "./helpers/twilio-standin.js";
import { ensureBuilt, spawnServer } from "./helpers/processes.js";
import { WebhookReceiver } from "./helpers/webhook-receiver.js";

const SET = `mutation($s: ID!, $url: String!, $events: [WebhookEvent!]!, $rotate: Boolean) { setServiceWebhook(serviceId: $s, url: $url, events: $events, rotateSecret: $rotate) { serviceId url events secret } }`;
const ALL = ["VERIFICATION_STARTED", "VERIFICATION_APPROVED", "VERIFICATION_CANCELED", "VERIFICATION_EXPIRED", "VERIFICATION_FAILED", "DELIVERY_STATUS", "RISK_BLOCKED", "DELIVERY_ALERT"];

interface Body {
  type: string;
  timestamp: string;
  data: { verificationId?: string; serviceId: string; status?: string; event: string };
}
const bodyOf = (raw: string) => JSON.parse(raw) as Body;

/**
 * Signed outbound webhooks to a local receiver: Standard Webhooks signatures that the reference
 * library verifies, events in order per verification, retries while the receiver answers 500, a dead
 * endpoint that never slows a verification, and nothing lost across a kill -9.
 */
describe("signed webhooks", () => {
  const receiver = new WebhookReceiver();
  let s: TestServer;
  let serviceId: string;
  let secret: string;

  beforeAll(async () => {
    await receiver.start();
    s = await startServer({ env: { WEBHOOK_TIMEOUT_MS: "1000" } });
    serviceId = await createCoreService(s);
    const set = ok(await s.gql<{ setServiceWebhook: { secret: string | null; events: string[] } }>(SET, { s: serviceId, url: receiver.url, events: ALL }));
    secret = set.setServiceWebhook.secret!;
    expect(secret).toMatch(/^whsec_/);
  });
  afterAll(async () => {
    await s?.close();
    await receiver.close();
  });

  const settle = () => s.app.webhooks.idle();

  it("signs each request so the Standard Webhooks library verifies it, and sends events in order", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    ok(await s.gql(CHECK, { input: { serviceId, to, code } }));
    await settle();
    const mine = receiver.delivered().filter((r) => bodyOf(r.body).data.verificationId === v.id);
    expect(mine.map((r) => bodyOf(r.body).type)).toEqual(["verification.started", "verification.approved"]);
    const wh = new Webhook(secret);
    for (const r of mine) {
      const verified = wh.verify(r.body, { "webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature }) as Body;
      expect(verified.data).toMatchObject({ serviceId, verificationId: v.id });
      expect(r.body).not.toContain(to);
      // A changed body or another secret does not verify.
      expect(() => wh.verify(r.body.replace(v.id, "VE" + "0".repeat(32)), { "webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature })).toThrow();
      expect(() => new Webhook("whsec_" + Buffer.alloc(24, 1).toString("base64")).verify(r.body, { "webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature })).toThrow();
    }
  });

  it("retries while the receiver answers 500, with the same webhook-id, and keeps the verification's order", async () => {
    let failures = 0;
    receiver.respond = () => (failures++ < 3 ? 500 : 200);
    const before = receiver.received.length;
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    ok(await s.gql(CANCEL, { serviceId, id: v.id }));
    await expect.poll(() => receiver.delivered().filter((r) => bodyOf(r.body).data.verificationId === v.id).length, { timeout: 20_000, interval: 200 }).toBe(2);
    receiver.respond = () => 200;
    const tries = receiver.received.slice(before);
    const started = tries.filter((r) => bodyOf(r.body).type === "verification.started");
    expect(started.map((r) => r.answered)).toEqual([500, 500, 500, 200]);
    expect(new Set(started.map((r) => r.id)).size).toBe(1);
    // The cancel waited for the start: it was never sent before the start got its 200.
    const firstCancel = tries.findIndex((r) => bodyOf(r.body).type === "verification.canceled");
    const startOk = tries.findIndex((r) => bodyOf(r.body).type === "verification.started" && r.answered === 200);
    expect(firstCancel).toBeGreaterThan(startOk);
  });

  it("never slows a verification while the endpoint hangs", async () => {
    receiver.respond = () => "hang";
    const before = receiver.received.length;
    const starts = [];
    for (let i = 0; i < 12; i++) starts.push(await startVerification(s, { serviceId, to: freshMobile() }));
    expect(starts.every((v) => v.status === "PENDING")).toBe(true);
    await expect.poll(() => receiver.received.length - before).toBeGreaterThan(0);
    receiver.respond = () => 200;
  });

  it("sends only the events the service asked for, and refuses a bad URL", async () => {
    const other = await createCoreService(s, { friendlyName: "Picky" });
    ok(await s.gql(SET, { s: other, url: receiver.url, events: ["VERIFICATION_CANCELED"] }));
    const v = await startVerification(s, { serviceId: other, to: freshMobile() });
    ok(await s.gql(CANCEL, { serviceId: other, id: v.id }));
    await expect.poll(() => receiver.delivered().filter((r) => bodyOf(r.body).data.verificationId === v.id).map((r) => bodyOf(r.body).type), { timeout: 10_000 }).toEqual(["verification.canceled"]);
    expect(errorOf(await s.gql(SET, { s: other, url: "ftp://example.com/x", events: ["VERIFICATION_CANCELED"] }))).toMatchObject({ code: "INVALID_PARAMETER" });
    expect(errorOf(await s.gql(SET, { s: other, url: "not a url", events: ["VERIFICATION_CANCELED"] }))).toMatchObject({ code: "INVALID_PARAMETER" });
  });
});

describe("webhooks written with the change they report", () => {
  const standin = new TwilioStandin();
  const receiver = new WebhookReceiver();
  const clock = new ManualClock(Date.now());
  let s: TestServer;
  let serviceId: string;

  beforeAll(async () => {
    await standin.start();
    await receiver.start();
    s = await startServer({ clock, env: twilioEnv(standin) });
    serviceId = await createCoreService(s, { maxCheckAttempts: 2 });
    ok(await s.gql(SET, { s: serviceId, url: receiver.url, events: ALL }));
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
    await receiver.close();
  });

  /** The outbox rows of one verification (or of the service's events without one), as committed. */
  const committed = (ref: string) =>
    queryDb<{ event_type: string }>(s, "select event_type from webhook_deliveries where service_id = ? and payload like ? order by seq", serviceId, `%${ref}%`).map((r) => r.event_type);
  const codeOf = (to: string) => /(\d{6})/.exec(standin.created.find((r) => r.to === to)!.body!)![1]!;

  it("has every event's delivery committed by the time the request that caused it is answered, and sends each kind", async () => {
    // Started, delivery status (Twilio's callback), approved.
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    expect(committed(v.id)).toEqual(["verification.started"]);
    await s.app.dispatcher.idle();
    const res = await standin.statusCallback(s.url, standin.created.find((r) => r.to === to)!, { MessageStatus: "delivered" });
    expect(res.status).toBe(204);
    expect(committed(v.id)).toEqual(["verification.started", "delivery.status"]);
    ok(await s.gql(CHECK, { input: { serviceId, to, code: codeOf(to) } }));
    expect(committed(v.id)).toEqual(["verification.started", "delivery.status", "verification.approved"]);

    // Canceled; failed when the check attempts run out (the wrong check before it sends nothing).
    const canceled = await startVerification(s, { serviceId, to: freshMobile() });
    ok(await s.gql(CANCEL, { serviceId, id: canceled.id }));
    expect(committed(canceled.id)).toEqual(["verification.started", "verification.canceled"]);
    const guessed = await startVerification(s, { serviceId, to: freshMobile() });
    await s.app.dispatcher.idle();
    const wrong = codeOf(guessed.to) === "000000" ? "111111" : "000000";
    ok(await s.gql(CHECK, { input: { serviceId, verificationId: guessed.id, code: wrong } }));
    expect(committed(guessed.id)).toEqual(["verification.started"]);
    ok(await s.gql(CHECK, { input: { serviceId, verificationId: guessed.id, code: wrong } }));
    expect(committed(guessed.id)).toEqual(["verification.started", "verification.failed"]);

    // Twilio refuses the number: the worker's DELIVERY_STATUS failed, then the verification FAILED.
    standin.fail({ status: 400, code: 21211, message: "invalid number" });
    const refused = await startVerification(s, { serviceId, to: freshMobile() });
    await s.app.dispatcher.idle();
    expect(committed(refused.id)).toEqual(["verification.started", "delivery.status", "verification.failed"]);

    // Expired: read after its time to live.
    const late = await startVerification(s, { serviceId, to: freshMobile() });
    clock.advance(601_000);
    expect(ok(await s.gql<{ verification: { status: string } }>(VERIFICATION, { serviceId, id: late.id })).verification.status).toBe("EXPIRED");
    expect(committed(late.id)).toEqual(["verification.started", "verification.expired"]);

    // Risk blocked: a start the pipeline refuses (no verification: the event names the stage).
    const before = committed('"stage":"phone"').length;
    expect(errorOf(await s.gql(START, { input: { serviceId, to: "+4412", channel: "SMS" } }))).toMatchObject({ code: "INVALID_PARAMETER" });
    expect(committed('"stage":"phone"')).toEqual([...Array(before).fill("risk.blocked"), "risk.blocked"]);

    // And all of it reaches the receiver, in order per verification.
    await s.app.webhooks.idle();
    const typesOf = (id: string) => receiver.delivered().filter((r) => bodyOf(r.body).data.verificationId === id).map((r) => bodyOf(r.body).type);
    expect(typesOf(v.id)).toEqual(["verification.started", "delivery.status", "verification.approved"]);
    expect(typesOf(refused.id)).toEqual(["verification.started", "delivery.status", "verification.failed"]);
    expect(typesOf(late.id)).toEqual(["verification.started", "verification.expired"]);
    expect(receiver.types()).toContain("risk.blocked");
  });
});

describe("webhooks across a kill -9", () => {
  const receiver = new WebhookReceiver();
  let dir: string;
  beforeAll(async () => {
    await receiver.start();
    dir = mkdtempSync(join(tmpdir(), "vg-webhooks-"));
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses nothing: events pending when the process is killed are all delivered, in order, by the next one", async () => {
    ensureBuilt();
    const dbFile = join(dir, "verify.db");
    const env = { DATABASE_URL: `file:${dbFile}`, WEBHOOK_TIMEOUT_MS: "1000" };
    receiver.respond = () => 500; // the endpoint is down: everything stays pending
    const first = await spawnServer(env);
    const serviceId = ok(await first.gql<{ createService: { id: string } }>(CREATE_SERVICE, { input: { friendlyName: "Acme" } })).createService.id;
    ok(await first.gql(SET, { s: serviceId, url: receiver.url, events: ALL }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const v = ok(await first.gql<{ startVerification: { id: string } }>(START, { input: { serviceId, to: freshMobile(), channel: "SMS", riskCheck: "DISABLE" } })).startVerification;
      ok(await first.gql(CANCEL, { serviceId, id: v.id }));
      ids.push(v.id);
    }
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const nodePid = Number(execFileSync("pgrep", ["-P", String(first.child.pid)], { encoding: "utf8" }).trim().split("\n")[0]);
    process.kill(nodePid, "SIGKILL");
    await first.exited;

    const db = new Database(dbFile, { readonly: true });
    const pending = db.prepare("select count(*) as n from webhook_deliveries where status != 'delivered'").get() as { n: number };
    db.close();
    expect(pending.n).toBe(6);

    receiver.respond = () => 200;
    const second = await spawnServer(env);
    try {
      await expect.poll(() => new Set(receiver.delivered().map((r) => r.id)).size, { timeout: 30_000, interval: 250 }).toBe(6);
      for (const id of ids) {
        const mine = receiver.delivered().filter((r) => bodyOf(r.body).data.verificationId === id);
        expect(mine.map((r) => bodyOf(r.body).type)).toEqual(["verification.started", "verification.canceled"]);
      }
    } finally {
      await second.stop();
    }
  }, 90_000);
});
