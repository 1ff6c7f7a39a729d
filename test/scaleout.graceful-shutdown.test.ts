import "reflect-metadata";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backendStatus, createFreshPgDatabase, randomRedisPrefix, type FreshPgDatabase } from "./helpers/backends.js";
import { ADMIN_KEY } from "./helpers/harness.js";
import { ensureBuilt, spawnServer, type ServerProcess } from "./helpers/processes.js";

const { pg, redis } = backendStatus();

interface Setup {
  name: string;
  skipReason: string | null;
  env(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>;
}

const setups: Setup[] = [
  {
    name: "embedded (SQLite, in-process events)",
    skipReason: null,
    async env() {
      const dir = mkdtempSync(join(tmpdir(), "vg-shutdown-"));
      return { env: { DATABASE_URL: `file:${join(dir, "verify.db")}` }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "scale-out (PostgreSQL, Redis)",
    skipReason: [pg.reason, redis.reason].filter(Boolean).join("; ") || null,
    async env() {
      const db: FreshPgDatabase = await createFreshPgDatabase();
      return { env: { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: randomRedisPrefix() }, cleanup: () => db.drop() };
    },
  },
];

/** Resolves once the process printed that it is draining (SIGTERM handled, listener closing). */
async function draining(p: ServerProcess): Promise<void> {
  for (let i = 0; i < 200 && !p.output().includes("SIGTERM: draining"); i++) await new Promise((r) => setTimeout(r, 10));
  expect(p.output()).toContain("SIGTERM: draining");
}

/**
 * Graceful shutdown of the real process (`node dist/src/main.js`), as an orchestrator does it: SIGTERM,
 * then the process stops listening, finishes the requests already in flight, closes WebSockets with
 * 1001 (going away) so clients reconnect elsewhere, closes the database and Redis, and exits 0.
 */
describe.each(setups)("graceful shutdown, $name", (setup) => {
  describe.skipIf(setup.skipReason !== null)(setup.skipReason ? `not run: ${setup.skipReason}` : "on SIGTERM", () => {
    let cleanup: () => Promise<void> = async () => undefined;
    let env: Record<string, string>;
    beforeAll(async () => {
      ensureBuilt();
      ({ env, cleanup } = await setup.env());
    }, 300_000);
    afterAll(async () => cleanup());

    it("finishes a request already in flight, refuses new connections, and exits 0", async () => {
      const p = await spawnServer(env);
      const { port } = new URL(p.url);
      // A write: the database must still be open when the drained request reaches it.
      const body = JSON.stringify({ query: 'mutation { createService(input: { friendlyName: "Drained" }) { id friendlyName } }' });
      const socket = connect(Number(port), "127.0.0.1");
      let response = "";
      socket.on("data", (d) => (response += d.toString()));
      const ended = new Promise((r) => socket.on("close", r));
      await new Promise((r) => socket.once("connect", r));
      // Headers and half the body now, the rest after SIGTERM. `Expect: 100-continue` makes the server
      // say when it has parsed the headers, so the request is provably in flight when SIGTERM lands.
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
      );
      while (!response.includes("100 Continue")) await new Promise((r) => setTimeout(r, 5));
      socket.write(body.slice(0, 5));
      p.child.kill("SIGTERM");
      await draining(p);
      await expect(fetch(p.url + "/healthz")).rejects.toThrow();
      socket.write(body.slice(5));
      await ended;
      expect(response).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      expect(response).toMatch(/\{"data":\{"createService":\{"id":"VA[0-9a-f]{32}","friendlyName":"Drained"\}\}\}/);
      expect(await p.exited).toBe(0);
    });

    it("closes open WebSocket connections with 1001 and exits 0", async () => {
      const p = await spawnServer(env);
      const ws = new WebSocket(p.url.replace("http", "ws") + "/graphql", "graphql-transport-ws");
      const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
      await new Promise((r) => ws.once("open", r));
      ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${ADMIN_KEY}` } }));
      const ack = await new Promise<string>((r) => ws.once("message", (m) => r(m.toString())));
      expect(JSON.parse(ack)).toMatchObject({ type: "connection_ack" });
      p.child.kill("SIGTERM");
      expect(await closed).toBe(1001);
      expect(await p.exited).toBe(0);
    });

    it("does not wait on idle keep-alive connections", async () => {
      const p = await spawnServer(env);
      const { port } = new URL(p.url);
      const socket = connect(Number(port), "127.0.0.1");
      let response = "";
      socket.on("data", (d) => (response += d.toString()));
      await new Promise((r) => socket.once("connect", r));
      socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
      while (!response.includes('{"status":"ok"}')) await new Promise((r) => setTimeout(r, 10));
      p.child.kill("SIGTERM");
      // Held open, it would trip the 15 s forced exit, which exits 1.
      expect(await p.exited).toBe(0);
      socket.destroy();
    });
  });
});
