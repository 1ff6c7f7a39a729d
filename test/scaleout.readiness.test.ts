import "reflect-metadata";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { backendStatus, createFreshPgDatabase, randomRedisPrefix, type FreshPgDatabase } from "./helpers/backends.js";
import { START, createService, errorOf, freshMobile, startServer, type TestServer } from "./helpers/harness.js";

const { pg, redis } = backendStatus();

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function probe(s: TestServer, path: "/healthz" | "/readyz"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(s.url + path);
  return { status: res.status, body: await res.json() };
}

/**
 * /healthz says the process is alive (a load balancer restarts it when not); /readyz says it can
 * serve (a load balancer sends it traffic only then): it checks the database and, when configured,
 * Redis, and answers 503 while either is unreachable, without saying which to the outside.
 */
describe("health and readiness", () => {
  let server: TestServer | undefined;
  let db: FreshPgDatabase | undefined;
  afterEach(async () => {
    await server?.close().catch(() => undefined);
    await db?.drop();
    server = db = undefined;
  });

  it("is ready on the embedded SQLite store", async () => {
    server = await startServer();
    expect(await probe(server, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    // Ready, with the store's size and its last purge (none yet: the test harness runs no timers).
    expect(await probe(server, "/readyz")).toEqual({ status: 200, body: { status: "ready", store: { dialect: "sqlite", bytes: expect.any(Number), freeBytes: expect.any(Number), lastPurge: null } } });
    await server.app.purger.runOnce();
    const { body } = await probe(server, "/readyz");
    expect((body as { store: { lastPurge: { at: string; ok: boolean } } }).store.lastPurge).toEqual({ at: expect.stringMatching(/^\d{4}-/), ms: expect.any(Number), ok: true });
  });

  it("is alive but not ready while its Redis is unreachable, and refuses starts with 20503 meanwhile", async () => {
    server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` } });
    expect(await probe(server, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await probe(server, "/readyz")).toEqual({ status: 503, body: { status: "unavailable" } });
    // Fail closed, and promptly: without its counters the risk pipeline cannot judge a send.
    const serviceId = await createService(server);
    const r = await server.gql(START, { input: { serviceId, to: freshMobile(), channel: "SMS" } });
    expect(errorOf(r)).toMatchObject({ code: "SERVICE_UNAVAILABLE", errorCode: 20503, retryAfterSeconds: 5 });
  });

  describe.skipIf(pg.reason !== null || redis.reason !== null)(
    pg.reason || redis.reason ? `on PostgreSQL and Redis: not run: ${[pg.reason, redis.reason].filter(Boolean).join("; ")}` : "on PostgreSQL and Redis",
    () => {
      it("is ready when both answer, and not ready once its database is gone", async () => {
        db = await createFreshPgDatabase();
        server = await startServer({ env: { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: randomRedisPrefix() } });
        expect(await probe(server, "/readyz")).toMatchObject({ status: 200, body: { status: "ready", store: { dialect: "postgres", bytes: expect.any(Number) } } });
        await db.drop(); // WITH (FORCE): the server's pooled connections are cut too
        db = undefined;
        expect(await probe(server, "/readyz")).toEqual({ status: 503, body: { status: "unavailable" } });
        expect(await probe(server, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
      });
    },
  );
});
