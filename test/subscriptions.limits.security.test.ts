import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, createClientKey, createCoreService, errorOf, freshMobile, ok, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { backendStatus, randomRedisPrefix } from "./helpers/backends.js";
import { record, wsClient, type Recording, type WsClient } from "./helpers/ws.js";

/**
 * Subscription limits (issue 13, finding 2: one CLIENT key opened 50 sockets × 200 subscriptions and
 * all 10,000 were accepted). Per key, per socket, sockets per key and per IP group; over a
 * subscription limit a coded `error` and the socket stays usable; over a socket limit, close 4429.
 * A revoked key's running subscriptions end within 5 s.
 */

const UPDATED = `subscription($id: ID!) { verificationUpdated(verificationId: $id) { type } }`;
type Updated = { verificationUpdated: { type: string } };

/** Subscribes and waits until it is live (SUBSCRIBED) or refused; returns the recording and its first result. */
async function settle(c: WsClient, id: string): Promise<{ rec: Recording<Updated>; refused: { code: string; errorCode: number } | null }> {
  const rec = record<Updated>(c, UPDATED, { id });
  const outcome = await Promise.race([rec.waitFor(1, 10_000).then(() => "live" as const), rec.ended.then(() => "ended" as const)]);
  if (outcome === "live") return { rec, refused: null };
  const { error } = await rec.ended;
  const errors = (Array.isArray(error) ? error : []) as { extensions?: { code: string; errorCode: number } }[];
  return { rec, refused: errors[0]?.extensions ?? { code: `closed ${(error as { code?: number })?.code}`, errorCode: 0 } };
}

/** A graphql-ws client whose socket sends X-Forwarded-For (the server trusts 127.0.0.1 in these tests). */
function clientFrom(s: TestServer, key: string, ip: string): { client: ReturnType<typeof createClient>; closed: Promise<{ code: number; reason: string }> } {
  let closedResolve!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (closedResolve = r));
  class WithIp extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: { "x-forwarded-for": ip } });
    }
  }
  const client = createClient({
    url: s.wsUrl,
    webSocketImpl: WithIp,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    on: { closed: (e) => closedResolve({ code: (e as { code: number }).code, reason: (e as { reason: string }).reason }) },
    onNonLazyError: () => undefined,
  });
  return { client, closed };
}

describe("subscription limits (defaults: 100 per key, 20 per socket)", () => {
  let s: TestServer;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    s = await startServer();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => s?.close());

  it("accepts 100 subscriptions of one CLIENT key over six sockets and refuses the rest with 20429, every socket still open", async () => {
    const serviceId = await createCoreService(s);
    const key = await createClientKey(s, serviceId);
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    // Not lazy: a lazy client closes its socket when it has no subscription left, and this checks that
    // the server leaves sockets open.
    const sockets = Array.from({ length: 6 }, () => wsClient(s, key.secret, { lazy: false, onNonLazyError: () => undefined }));
    clients.push(...sockets);
    const outcomes = await Promise.all(sockets.flatMap((c) => Array.from({ length: 20 }, () => settle(c, v.id))));
    const refused = outcomes.filter((o) => o.refused);
    expect(outcomes.length - refused.length).toBe(100);
    expect(refused).toHaveLength(20);
    for (const r of refused) expect(r.refused).toEqual({ code: "TOO_MANY_SUBSCRIPTIONS", errorCode: 20429 });
    expect(refused[0]!.rec.results[0]).toBeUndefined();
    for (const c of sockets) expect(c.sockets[0]!.readyState).toBe(WebSocket.OPEN);
    // Ending one gives its slot back: a new one is accepted.
    outcomes.find((o) => !o.refused)!.rec.unsubscribe();
    await expect.poll(async () => (await settle(sockets[5]!, v.id)).refused, { timeout: 5_000 }).toBeNull();
  });

  it("refuses a 21st subscription on one socket, which stays usable for queries and for a subscription once one ends", async () => {
    const serviceId = await createCoreService(s);
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    const c = wsClient(s, ADMIN_KEY, { lazy: false, onNonLazyError: () => undefined });
    clients.push(c);
    const live = await Promise.all(Array.from({ length: 20 }, () => settle(c, v.id)));
    expect(live.every((o) => o.refused === null)).toBe(true);
    const over = await settle(c, v.id);
    expect(over.refused).toEqual({ code: "TOO_MANY_SUBSCRIPTIONS", errorCode: 20429 });
    // The same socket still answers a query.
    const q = record<{ services: { id: string }[] }>(c, `{ services { id } }`, {});
    await q.ended;
    expect(q.results[0]!.data!.services.length).toBeGreaterThan(0);
    live[0]!.rec.unsubscribe();
    await expect.poll(async () => (await settle(c, v.id)).refused, { timeout: 5_000 }).toBeNull();
    expect(c.sockets).toHaveLength(1);
  });

  it("ends a revoked key's running subscriptions within 5 s (the socket closes with 4403)", async () => {
    const serviceId = await createCoreService(s);
    const key = await createClientKey(s, serviceId);
    const v = await startVerification(s, { serviceId, to: freshMobile() });
    const c = wsClient(s, key.secret);
    clients.push(c);
    const { rec } = await settle(c, v.id);
    const revokedAt = performance.now();
    ok(await s.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { alreadyRevoked } }`, { id: key.id }));
    const { error } = await rec.ended;
    expect(performance.now() - revokedAt).toBeLessThan(5_000);
    expect((error as { code: number }).code).toBe(4403);
  });
});

describe("socket limits (per key 2, per IP group 2)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { WS_MAX_SOCKETS_PER_KEY: "2", WS_MAX_SOCKETS_PER_IP: "2", TRUST_PROXY: "127.0.0.1/32" } });
  });
  afterAll(async () => s?.close());

  it("closes a third socket of one key with 4429 (reason 20429), and lets one in once another closed", async () => {
    const serviceId = await createCoreService(s);
    const key = await createClientKey(s, serviceId);
    const a = clientFrom(s, key.secret, "198.51.100.1");
    const b = clientFrom(s, key.secret, "198.51.100.2");
    await Promise.all([a.client, b.client].map((c) => new Promise<void>((resolve) => c.on("connected", () => resolve()))));
    const third = clientFrom(s, key.secret, "198.51.100.3");
    expect(await third.closed).toEqual({ code: 4429, reason: expect.stringMatching(/^20429 Too many connections for this API key/) });
    await a.client.dispose();
    await a.closed;
    const fourth = clientFrom(s, key.secret, "198.51.100.4");
    await new Promise<void>((resolve) => fourth.client.on("connected", () => resolve()));
    await Promise.all([b.client.dispose(), fourth.client.dispose()]);
  });

  it("closes a third socket from one IP group with 4429, whatever keys it uses; another address gets in", async () => {
    const serviceId = await createCoreService(s);
    const keys = await Promise.all([0, 1, 2].map(() => createClientKey(s, serviceId)));
    const open = [clientFrom(s, keys[0]!.secret, "2001:db8:7:7::1"), clientFrom(s, keys[1]!.secret, "2001:db8:7:7::2")];
    await Promise.all(open.map(({ client }) => new Promise<void>((resolve) => client.on("connected", () => resolve()))));
    const third = clientFrom(s, keys[2]!.secret, "2001:db8:7:7::3");
    expect(await third.closed).toEqual({ code: 4429, reason: expect.stringMatching(/^20429 Too many connections from this address/) });
    const elsewhere = clientFrom(s, keys[2]!.secret, "203.0.113.3");
    await new Promise<void>((resolve) => elsewhere.client.on("connected", () => resolve()));
    await Promise.all([...open, elsewhere].map(({ client }) => client.dispose()));
  });
});

const redis = backendStatus().redis;

describe.skipIf(redis.reason !== null)(redis.reason ? `subscription limits across instances not run: ${redis.reason}` : "subscription limits across two instances sharing Redis", () => {
  const dir = mkdtempSync(join(tmpdir(), "vg-wslimits-"));
  const dbFile = join(dir, "verify.db");
  const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: randomRedisPrefix(), WS_MAX_SUBSCRIPTIONS_PER_KEY: "5" };
  let one: TestServer;
  let two: TestServer;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    one = await startServer({ dbFile, env });
    two = await startServer({ dbFile, env });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await two?.close();
    await one?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts one key's subscriptions on both instances together", async () => {
    const serviceId = await createCoreService(one);
    const key = await createClientKey(one, serviceId);
    const v = await startVerification(one, { serviceId, to: freshMobile() });
    const a = wsClient(one, key.secret);
    const b = wsClient(two, key.secret);
    clients.push(a, b);
    const onA = await Promise.all(Array.from({ length: 3 }, () => settle(a, v.id)));
    const onB = await Promise.all(Array.from({ length: 3 }, () => settle(b, v.id)));
    expect([...onA, ...onB].filter((o) => o.refused === null)).toHaveLength(5);
    expect(onB.filter((o) => o.refused).map((o) => o.refused)).toEqual([{ code: "TOO_MANY_SUBSCRIPTIONS", errorCode: 20429 }]);
    expect(errorOf(await two.gql(`{ services { id } }`, {}, key.secret))).toMatchObject({ code: "FORBIDDEN" }); // the key itself still works
  });
});
