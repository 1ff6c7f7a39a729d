import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { probeBackends } from "./helpers/backend-probe.js";

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * How `npm test` decides which backend suites run (test/helpers/backends.global-setup.ts): the probe
 * against real sockets. The default-address behaviour is the same code with the default URLs.
 */
describe("backend probe for the scale-out suites", () => {
  it("names the unreachable server and why when its URL came from the defaults", async () => {
    const port = await closedPort();
    const status = await probeBackends({}, { pg: `postgres://postgres@127.0.0.1:${port}/postgres`, redis: `redis://127.0.0.1:${port}` });
    expect(status.pg).toMatchObject({ available: false, required: false });
    expect(status.pg.reason).toMatch(new RegExp(`^PostgreSQL at postgres://postgres@127\\.0\\.0\\.1:${port}/postgres is not reachable \\(.*ECONNREFUSED`));
    expect(status.redis).toMatchObject({ available: false, required: false });
    expect(status.redis.reason).toMatch(new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${port} is not reachable \\(.*ECONNREFUSED`));
  });

  it("never skips a server the environment names, even when it is down (its suites then fail)", async () => {
    const port = await closedPort();
    const status = await probeBackends({ TEST_DATABASE_URL: `postgres://u:secret@127.0.0.1:${port}/x`, TEST_REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(status.pg).toEqual({ url: `postgres://u:secret@127.0.0.1:${port}/x`, available: true, required: true, reason: null });
    expect(status.redis).toMatchObject({ available: true, required: true, reason: null });
  });

  it("hides a password in the reason it prints", async () => {
    const port = await closedPort();
    const status = await probeBackends({}, { pg: `postgres://u:hunter2@127.0.0.1:${port}/x`, redis: `redis://:hunter2@127.0.0.1:${port}` });
    expect(status.pg.reason).toContain("postgres://u:***@127.0.0.1");
    expect(status.pg.reason).not.toContain("hunter2");
    expect(status.redis.reason).not.toContain("hunter2");
  });
});
