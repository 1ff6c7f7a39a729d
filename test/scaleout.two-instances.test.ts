import "reflect-metadata";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backendStatus, createFreshPgDatabase, randomRedisPrefix, type FreshPgDatabase } from "./helpers/backends.js";
import { ADMIN_KEY, CANCEL, CHECK, CREATE_API_KEY, CREATE_SERVICE, START, errorOf, freshMobile, ok, type GqlResult } from "./helpers/harness.js";
import { ensureBuilt, spawnServer, type ServerProcess } from "./helpers/processes.js";

const { pg, redis } = backendStatus();
const skipReason = [pg.reason, redis.reason].filter(Boolean).join("; ") || null;

const EVENTS = `subscription($serviceId: ID!) { verificationEvents(serviceId: $serviceId) { type verificationId status } }`;

interface Event {
  type: string;
  verificationId: string | null;
  status: string | null;
}

/**
 * Scale-out, end to end: two real server processes (`node dist/src/main.js`) on different ports, one
 * PostgreSQL database and one Redis, as N instances behind a load balancer run. What one instance does,
 * the other must honour: the rate limits, the events, and the atomic status moves.
 */
describe.skipIf(skipReason !== null)(skipReason ? `two instances not run: ${skipReason}` : "two instances sharing PostgreSQL and Redis", () => {
  let db: FreshPgDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    ensureBuilt();
    db = await createFreshPgDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: randomRedisPrefix() };
    // Started at once: both migrate the empty database, and the advisory lock lets exactly one do it.
    [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    // Both shut down cleanly (0), not by the forced exit.
    if (a && b) expect(codes).toEqual([0, 0]);
  });

  const createService = async (on: ServerProcess, input: Record<string, unknown> = {}) =>
    ok(await on.gql<{ createService: { id: string } }>(CREATE_SERVICE, { input: { friendlyName: "Acme", ...input } })).createService.id;
  const start = (on: ServerProcess, input: Record<string, unknown>) =>
    on.gql<{ startVerification: { id: string; status: string } }>(START, { input: { channel: "SMS", ...input } });

  it("migrated the shared database exactly once although both started together", async () => {
    const { default: pgLib } = await import("pg");
    const c = new pgLib.Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ n: string }>("select count(*) as n from drizzle.__drizzle_migrations");
      const { rows: files } = await c.query<{ n: string }>("select count(distinct hash) as n from drizzle.__drizzle_migrations");
      expect(Number(rows[0]!.n)).toBeGreaterThan(0);
      expect(rows[0]!.n).toBe(files[0]!.n);
    } finally {
      await c.end();
    }
  });

  it("holds the per-number send limit across both instances", async () => {
    const serviceId = await createService(a);
    const to = freshMobile();
    // Alternate instances, and cancel each verification before the next start: every start is then a
    // new verification (one send), so the verification's own send cap (60203) never applies and only
    // the per-number limiter (5 sends per number per 10 minutes) can refuse.
    const answers: GqlResult<{ startVerification: { id: string } }>[] = [];
    for (let i = 0; i < 6; i++) {
      const on = i % 2 ? b : a;
      const r = await start(on, { serviceId, to });
      answers.push(r);
      if (r.data?.startVerification) ok(await (i % 2 ? a : b).gql(CANCEL, { serviceId, id: r.data.startVerification.id }));
    }
    expect(answers.slice(0, 5).map((r) => r.errors)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(errorOf(answers[5]!)).toMatchObject({ code: "RATE_LIMITED", errorCode: 20429 });
    // The other instance agrees: the number is limited everywhere.
    expect(errorOf(await start(a, { serviceId, to }))).toMatchObject({ errorCode: 20429 });
  });

  it("pushes a status change made through one instance to a subscriber on the other", async () => {
    const serviceId = await createService(a);
    const client = createClient({ url: a.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN_KEY}` }, retryAttempts: 0 });
    clients.push(client);
    const events: Event[] = [];
    let failure: unknown = null;
    const waiters: (() => void)[] = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    client.subscribe<{ verificationEvents: Event }>(
      { query: EVENTS, variables: { serviceId } },
      { next: (m) => (events.push(m.data!.verificationEvents), wake()), error: (e) => ((failure = e), wake()), complete: () => undefined },
    );
    /** The first event matching `pred` (already received or still to come). */
    const nextEvent = (pred: (e: Event) => boolean) =>
      new Promise<Event>((resolve, reject) => {
        const check = () => {
          const e = events.find(pred);
          if (e) resolve(e);
          else if (failure) reject(new Error(`subscription failed: ${JSON.stringify(failure)}`));
          else waiters.push(check);
        };
        check();
      });
    // SUBSCRIBED comes once the subscription is live across instances (Redis acknowledged it):
    // from then on, nothing any instance publishes for this service is missed.
    expect(await nextEvent((e) => e.type === "SUBSCRIBED")).toEqual({ type: "SUBSCRIBED", verificationId: null, status: null });

    const v = ok(await start(b, { serviceId, to: freshMobile() })).startVerification;
    ok(await b.gql(CANCEL, { serviceId, id: v.id }));
    expect(await nextEvent((e) => e.verificationId === v.id && e.type === "CANCELED")).toEqual({ type: "CANCELED", verificationId: v.id, status: "CANCELED" });
    // Its status changes arrived in the order they happened (delivery receipts may come in between).
    expect(events.filter((e) => e.verificationId === v.id && e.type !== "DELIVERY_STATUS").map((e) => e.type)).toEqual(["CREATED", "CANCELED"]);
  });

  it("approves exactly once when correct codes arrive through both instances at the same moment", async () => {
    // A custom code: the code is known without reading an outbox (each process has its own).
    const serviceId = await createService(a, { customCodeEnabled: true });
    const to = freshMobile();
    const v = ok(await start(a, { serviceId, to, customCode: "482913" })).startVerification;
    const checks = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? b : a).gql<{ checkVerification: { status: string; valid: boolean } }>(CHECK, { input: { serviceId, verificationId: v.id, code: "482913" } })),
    );
    const approved = checks.filter((r) => r.data?.checkVerification?.valid === true);
    expect(approved).toHaveLength(1);
    for (const r of checks.filter((r) => !r.data?.checkVerification?.valid)) expect(errorOf(r)).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
  });

  /**
   * Each instance keeps services, keys, the safe list, geo permissions, blocks and prices in memory
   * (store/config-cache.ts). A change made through one instance must reach the other within a second.
   * Polls the other instance every 50 ms and returns how long the change took to show there.
   */
  const secondsUntil = async (seen: () => Promise<boolean>): Promise<number> => {
    const t0 = Date.now();
    while (!(await seen())) {
      if (Date.now() - t0 > 5_000) throw new Error("the other instance never saw the change");
      await new Promise((r) => setTimeout(r, 50));
    }
    return (Date.now() - t0) / 1000;
  };

  it("sees a prefix blocked through the other instance within a second", async () => {
    const serviceId = await createService(a);
    // B has served this service (and its blocks) once, so they are in its cache.
    ok(await start(b, { serviceId, to: freshMobile() }));
    ok(await a.gql(`mutation($s: ID!) { blockPrefix(prefix: "+447400", serviceId: $s, reason: "two instances") { prefix } }`, { s: serviceId }));
    const took = await secondsUntil(async () => (await start(b, { serviceId, to: freshMobile() })).errors?.[0]?.extensions.errorCode === 60410);
    expect(took).toBeLessThan(1);
  });

  it("refuses a key revoked through the other instance within a second", async () => {
    const serviceId = await createService(a);
    const key = ok(await a.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_API_KEY, { role: "CLIENT", serviceId })).createApiKey;
    // B authenticates the key once (and caches it).
    ok(await b.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }, key.secret));
    expect(ok(await a.gql<{ revokeApiKey: { alreadyRevoked: boolean } }>(`mutation($id: ID!) { revokeApiKey(id: $id) { alreadyRevoked } }`, { id: key.apiKey.id })).revokeApiKey.alreadyRevoked).toBe(false);
    const took = await secondsUntil(async () => (await b.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } }, key.secret)).errors?.[0]?.extensions.errorCode === 20401);
    expect(took).toBeLessThan(1);
  });
});
