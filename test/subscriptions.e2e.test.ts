import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import {
  ADMIN_KEY,
  CANCEL,
  CHECK,
  codesSent,
  createClientKey,
  createCoreService,
  freshMobile,
  ok,
  startServer,
  startVerification,
  type TestServer,
} from "./helpers/harness.js";
import { record, wsClient, type WsClient } from "./helpers/ws.js";

/**
 * Live status over graphql-ws: the real `graphql-ws` client on a real WebSocket against the real
 * server (same port and path as queries), with mutations sent over HTTP as an app would.
 */

interface Ev {
  type: string;
  serviceId: string;
  verificationId: string | null;
  status: string | null;
  channel: string | null;
  stage: string | null;
  errorCode: number | null;
  country: string | null;
}
const FIELDS = "type serviceId verificationId status channel stage errorCode country";
const UPDATED = `subscription($id: ID!) { verificationUpdated(verificationId: $id) { ${FIELDS} } }`;
const EVENTS = `subscription($s: ID!) { verificationEvents(serviceId: $s) { ${FIELDS} } }`;
type Updated = { verificationUpdated: Ev };
type Events = { verificationEvents: Ev };

const clients: WsClient[] = [];
function connect(s: TestServer, key: string | null, opts: Parameters<typeof wsClient>[2] = {}): WsClient {
  const c = wsClient(s, key, opts);
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

describe("subscriptions over graphql-ws", () => {
  let s: TestServer;
  let serviceA: string;
  let serviceB: string;
  let keyA: string;
  let keyB: string;
  beforeAll(async () => {
    s = await startServer();
    serviceA = await createCoreService(s, { friendlyName: "Alpha" });
    serviceB = await createCoreService(s, { friendlyName: "Beta" });
    keyA = (await createClientKey(s, serviceA)).secret;
    keyB = (await createClientKey(s, serviceB)).secret;
  });
  afterAll(async () => s?.close());

  const check = async (to: string, code: string, key = ADMIN_KEY) => ok(await s.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId: serviceA, to, code } }, key));
  const wrongCode = (code: string) => (code === "000000" ? "111111" : "000000");

  it("a client key watches its own verification: SUBSCRIBED with the status, then RESENT, CHECK_FAILED and APPROVED in order", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId: serviceA, to }, keyA);
    const sub = record<Updated>(connect(s, keyA), UPDATED, { id: v.id });
    await sub.waitFor(1);
    await startVerification(s, { serviceId: serviceA, to }, keyA); // resend
    const [code] = await codesSent(s, to);
    await check(to, wrongCode(code!), keyA);
    await check(to, code!, keyA);
    const events = (await sub.waitFor(4)).map((r) => r.data!.verificationUpdated);
    expect(events.map((e) => [e.type, e.status])).toEqual([
      ["SUBSCRIBED", "PENDING"],
      ["RESENT", "PENDING"],
      ["CHECK_FAILED", "PENDING"],
      ["APPROVED", "APPROVED"],
    ]);
    expect(events.every((e) => e.verificationId === v.id && e.serviceId === serviceA && e.channel === "SMS" && e.country === "GB")).toBe(true);
  });

  it("the admin feed of a service shows its status changes and risk blocks in order, never another service's", async () => {
    const sub = record<Events>(connect(s, ADMIN_KEY), EVENTS, { s: serviceA });
    await sub.waitFor(1);
    const to = freshMobile();
    const v = await startVerification(s, { serviceId: serviceA, to });
    await startVerification(s, { serviceId: serviceB, to: freshMobile() }); // another service: not in this feed
    const blocked = await s.gql(`mutation($i: StartVerificationInput!) { startVerification(input: $i) { id } }`, { i: { serviceId: serviceA, to: "+4412", channel: "SMS" } });
    expect(blocked.errors?.[0]?.extensions.code).toBe("INVALID_PARAMETER");
    ok(await s.gql(CANCEL, { serviceId: serviceA, id: v.id }));
    const events = (await sub.waitFor(4)).map((r) => r.data!.verificationEvents);
    expect(events.map((e) => e.type)).toEqual(["SUBSCRIBED", "CREATED", "RISK_BLOCKED", "CANCELED"]);
    expect(events[0]).toMatchObject({ serviceId: serviceA, verificationId: null, status: null });
    expect(events[1]).toMatchObject({ verificationId: v.id, status: "PENDING", country: "GB" });
    expect(events[2]).toMatchObject({ verificationId: null, stage: "phone", errorCode: 60200, channel: "SMS" });
    expect(events[3]).toMatchObject({ verificationId: v.id, status: "CANCELED" });
    expect(events.every((e) => e.serviceId === serviceA)).toBe(true);
  });

  it("delivery status reports reach the verification's watchers with their status and error code", async () => {
    const v = await startVerification(s, { serviceId: serviceA, to: freshMobile() });
    const sub = record<{ verificationUpdated: Ev & { deliveryStatus: string | null } }>(connect(s, keyA), `subscription($id: ID!) { verificationUpdated(verificationId: $id) { ${FIELDS} deliveryStatus } }`, { id: v.id });
    await sub.waitFor(1);
    // What the delivery worker and the Twilio status callback publish, through the app's own PubSub.
    s.app.pubSub.publish("verification", v.id, { type: "DELIVERY_STATUS", serviceId: serviceA, verificationId: v.id, status: "PENDING", channel: "SMS", at: Date.now(), deliveryStatus: "undelivered", errorCode: 30003, country: "GB" });
    expect((await sub.waitFor(2))[1]!.data!.verificationUpdated).toMatchObject({ type: "DELIVERY_STATUS", deliveryStatus: "undelivered", errorCode: 30003, status: "PENDING" });
  });

  it("twenty subscribers on one verification (one socket each, and five on one socket) all get the same events in order", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId: serviceA, to });
    const subs = Array.from({ length: 20 }, (_, i) => record<Updated>(connect(s, i % 2 ? keyA : ADMIN_KEY), UPDATED, { id: v.id }));
    const shared = connect(s, keyA);
    subs.push(...Array.from({ length: 5 }, () => record<Updated>(shared, UPDATED, { id: v.id })));
    await Promise.all(subs.map((sub) => sub.waitFor(1)));
    const [code] = await codesSent(s, to);
    await check(to, wrongCode(code!));
    await check(to, code!);
    for (const sub of subs) {
      expect((await sub.waitFor(3)).map((r) => r.data!.verificationUpdated.type)).toEqual(["SUBSCRIBED", "CHECK_FAILED", "APPROVED"]);
    }
  });

  it("an unsubscribed client gets nothing more while the others still do", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId: serviceA, to });
    const leaving = record<Updated>(connect(s, keyA), UPDATED, { id: v.id });
    const staying = record<Updated>(connect(s, keyA), UPDATED, { id: v.id });
    await Promise.all([leaving.waitFor(1), staying.waitFor(1)]);
    leaving.unsubscribe();
    await leaving.ended;
    const [code] = await codesSent(s, to);
    await check(to, wrongCode(code!));
    await check(to, code!);
    await staying.waitFor(3);
    expect(leaving.results).toHaveLength(1);
  });

  it("a subscriber that stops reading its socket gets every event in order once it reads again, and holds up no one", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId: serviceA, to });
    const slowClient = connect(s, keyA);
    const slow = record<Updated>(slowClient, UPDATED, { id: v.id });
    const fast = record<Updated>(connect(s, keyA), UPDATED, { id: v.id });
    await Promise.all([slow.waitFor(1), fast.waitFor(1)]);
    slowClient.sockets[0]!.pause(); // stops reading: the server's writes pile up in the socket buffers
    for (let i = 0; i < 3; i++) await startVerification(s, { serviceId: serviceA, to }); // three resends
    const [code] = await codesSent(s, to);
    for (let i = 0; i < 3; i++) await check(to, wrongCode(code!));
    await check(to, code!);
    const expected = ["SUBSCRIBED", "RESENT", "RESENT", "RESENT", "CHECK_FAILED", "CHECK_FAILED", "CHECK_FAILED", "APPROVED"];
    expect((await fast.waitFor(8)).map((r) => r.data!.verificationUpdated.type)).toEqual(expected);
    expect(slow.results).toHaveLength(1); // nothing read while paused
    slowClient.sockets[0]!.resume();
    expect((await slow.waitFor(8)).map((r) => r.data!.verificationUpdated.type)).toEqual(expected);
  });

  it("a client that loses its connection reconnects, resubscribes and gets the events that follow", async () => {
    const to = freshMobile();
    const v = await startVerification(s, { serviceId: serviceA, to });
    const c = connect(s, keyA, { retryAttempts: 3, retryWait: async () => undefined });
    const sub = record<Updated>(c, UPDATED, { id: v.id });
    await sub.waitFor(1);
    // The network drops: the server side of every socket goes away without a close handshake.
    for (const socket of s.app.http.wsServer.clients) socket.terminate();
    const resubscribed = await sub.waitFor(2);
    expect(resubscribed[1]!.data!.verificationUpdated).toMatchObject({ type: "SUBSCRIBED", status: "PENDING" });
    expect(c.connects()).toBe(2);
    expect(c.sockets).toHaveLength(2);
    const [code] = await codesSent(s, to);
    await check(to, code!);
    expect((await sub.waitFor(3))[2]!.data!.verificationUpdated).toMatchObject({ type: "APPROVED", status: "APPROVED" });
  });

  it.each([
    ["a wrong key", "vg_pk_not-a-real-key-0123456789abcdefghijklmnop"],
    ["no key", null],
  ])("%s closes the socket with 4403 Forbidden", async (_label, key) => {
    const sub = record(connect(s, key), EVENTS, { s: serviceA });
    const { error } = await sub.ended;
    expect((error as { code: number }).code).toBe(4403);
    expect(sub.results).toHaveLength(0);
  });

  it("a client key cannot watch another service's verification (20404, like an unknown id) nor any service feed (20403); the socket stays usable", async () => {
    const vA = await startVerification(s, { serviceId: serviceA, to: freshMobile() });
    const c = connect(s, keyB);
    const cases: [string, Record<string, unknown>, string, number][] = [
      [UPDATED, { id: vA.id }, "NOT_FOUND", 20404],
      [UPDATED, { id: "VE00000000000000000000000000000000" }, "NOT_FOUND", 20404],
      [EVENTS, { s: serviceA }, "FORBIDDEN", 20403],
      [EVENTS, { s: serviceB }, "FORBIDDEN", 20403],
    ];
    for (const [query, variables, code, errorCode] of cases) {
      const sub = record(c, query, variables);
      expect(await sub.ended).toEqual({ error: null });
      expect(sub.results).toHaveLength(1);
      expect(sub.results[0]!.data ?? null).toBeNull();
      expect(sub.results[0]!.errors?.[0]?.extensions).toEqual({ code, errorCode });
    }
    // Same socket, own service's verification: allowed.
    const vB = await startVerification(s, { serviceId: serviceB, to: freshMobile() }, keyB);
    const mine = record<Updated>(c, UPDATED, { id: vB.id });
    expect((await mine.waitFor(1))[0]!.data!.verificationUpdated).toMatchObject({ type: "SUBSCRIBED", verificationId: vB.id });
    // An admin watches any service's verification.
    const admin = record<Updated>(connect(s, ADMIN_KEY), UPDATED, { id: vA.id });
    expect((await admin.waitFor(1))[0]!.data!.verificationUpdated).toMatchObject({ type: "SUBSCRIBED", verificationId: vA.id, serviceId: serviceA });
  });
});

describe("a key revoked while its socket is open", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it("starts nothing new on that socket (20401) at once; what runs ends within seconds (subscriptions.limits.security)", async () => {
    const serviceId = await createCoreService(s);
    const key = await createClientKey(s, serviceId);
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    const c = connect(s, key.secret);
    const before = record<Updated>(c, UPDATED, { id: v.id });
    await before.waitFor(1);
    ok(await s.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { alreadyRevoked } }`, { id: key.id }));
    const after = record(c, UPDATED, { id: v.id });
    const ended = await after.ended;
    // Refused at once with 20401, unless the sweep that closes the revoked key's sockets came first.
    if (ended.error === null) expect(after.results[0]!.errors?.[0]?.extensions).toEqual({ code: "UNAUTHENTICATED", errorCode: 20401 });
    else expect((ended.error as { code?: number }).code).toBe(4403);
  });
});

describe("EXPIRED is pushed when the TTL passes", () => {
  const clock = new ManualClock(Date.UTC(2026, 3, 1, 12, 0));
  let s: TestServer;
  beforeAll(async () => {
    // The real sweeper timer, every 50 ms; time itself moves only when the test says so.
    s = await startServer({ clock, sweeper: true, env: { EXPIRY_SWEEP_SECONDS: "0.05" } });
  });
  afterAll(async () => s?.close());

  it("the expiry sweeper pushes EXPIRED to the verification's watchers and the service feed, with no read in between", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Ttl", ttlSeconds: 30 });
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    const one = record<Updated>(connect(s, ADMIN_KEY), UPDATED, { id: v.id });
    const feed = record<Events>(connect(s, ADMIN_KEY), EVENTS, { s: serviceId });
    await Promise.all([one.waitFor(1), feed.waitFor(1)]);
    clock.advance(29_000);
    await s.app.services.lifecycle.sweepExpired(); // not yet due
    clock.advance(1_000); // exactly the TTL: expires_at <= now
    expect((await one.waitFor(2))[1]!.data!.verificationUpdated).toMatchObject({ type: "EXPIRED", status: "EXPIRED", verificationId: v.id });
    expect((await feed.waitFor(2))[1]!.data!.verificationEvents).toMatchObject({ type: "EXPIRED", status: "EXPIRED", verificationId: v.id });
    expect(one.results).toHaveLength(2);
  });
});
