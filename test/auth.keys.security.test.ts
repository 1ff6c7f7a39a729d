import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { createLogger } from "../src/log.js";
import { ADMIN_KEY, CREATE_API_KEY, errorOf, ok, queryDb, startServer, type TestServer } from "./helpers/harness.js";

/**
 * API keys: rotation of ADMIN_API_KEY revokes the key it named before (issue 13, finding 3), keys
 * record when they were made and last used and may expire, and revoking twice says so.
 */

const SERVICES = `query { services { id } }`;
const KEYS = `query { apiKeys { id name role createdAt lastUsedAt expiresAt revokedAt fromEnvironment } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { alreadyRevoked apiKey { id revokedAt } } }`;
const NEW_ADMIN_KEY = "vg_admin_rotated_abcdefghijklmnopqrstuvwxyz0123456789";

interface KeyView {
  id: string;
  name: string | null;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  fromEnvironment: boolean;
}

describe("rotating ADMIN_API_KEY", () => {
  const dir = mkdtempSync(join(tmpdir(), "vg-rotate-"));
  const dbFile = join(dir, "verify.db");
  let s: TestServer | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("revokes the old key at the next start and logs it; the new key works, the old one gets 20401", async () => {
    s = await startServer({ dbFile });
    expect(ok(await s.gql<{ services: unknown[] }>(SERVICES)).services).toEqual([]);
    const [first] = queryDb<{ id: string; name: string }>(s, "select id, name from api_keys where role = 'ADMIN'");
    expect(first!.name).toMatch(/^ADMIN_API_KEY [0-9a-f]{8}$/);
    await s.close();

    const lines: string[] = [];
    s = await startServer({ dbFile, env: { ADMIN_API_KEY: NEW_ADMIN_KEY }, log: createLogger("info", (l) => lines.push(l)) });
    expect(errorOf(await s.gql(SERVICES, {}, ADMIN_KEY))).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
    const keys = ok(await s.gql<{ apiKeys: KeyView[] }>(KEYS, {}, NEW_ADMIN_KEY)).apiKeys.filter((k) => k.fromEnvironment);
    expect(keys).toHaveLength(2);
    const old = keys.find((k) => k.id === first!.id)!;
    const current = keys.find((k) => k.id !== first!.id)!;
    expect(old.revokedAt).not.toBeNull();
    expect(current.revokedAt).toBeNull();
    expect(current.name).not.toBe(old.name);
    const warned = lines.map((l) => JSON.parse(l) as { level: string; msg: string; keyId?: string }).filter((l) => l.level === "warn");
    expect(warned).toContainEqual(expect.objectContaining({ msg: "ADMIN_API_KEY changed: revoked the key it named before", keyId: first!.id }));
  });

  it("refuses to start when ADMIN_API_KEY names a key that was revoked (rotating back would not let anyone in)", async () => {
    await expect(startServer({ dbFile })).rejects.toThrow(/ADMIN_API_KEY names a key that was revoked/);
  });

  it("leaves keys made through the API alone", async () => {
    s = await startServer({ dbFile, env: { ADMIN_API_KEY: NEW_ADMIN_KEY } });
    const made = ok(await s.gql<{ createApiKey: { secret: string } }>(CREATE_API_KEY, { role: "ADMIN", name: "ops" }, NEW_ADMIN_KEY)).createApiKey;
    await s.close();
    s = await startServer({ dbFile, env: { ADMIN_API_KEY: NEW_ADMIN_KEY + "-2" } });
    expect(ok(await s.gql<{ services: unknown[] }>(SERVICES, {}, made.secret)).services).toEqual([]);
    expect(errorOf(await s.gql(SERVICES, {}, NEW_ADMIN_KEY))).toMatchObject({ code: "UNAUTHENTICATED" });
  });
});

describe("key times and revocation", () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0));
  let s: TestServer;
  afterAll(async () => s?.close());

  it("records when a key was made and last used, writing the last use at most once a minute", async () => {
    s = await startServer({ clock });
    const made = ok(await s.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_API_KEY, { role: "ADMIN", name: "ops" })).createApiKey;
    const lastUsed = () => queryDb<{ last_used_at: number | null; created_at: number }>(s, "select last_used_at, created_at from api_keys where id = ?", made.apiKey.id)[0]!;
    expect(lastUsed()).toEqual({ created_at: clock.now(), last_used_at: null });
    const t0 = clock.now();
    ok(await s.gql(SERVICES, {}, made.secret));
    await expect.poll(() => lastUsed().last_used_at).toBe(t0);
    clock.advance(30_000);
    for (let i = 0; i < 5; i++) ok(await s.gql(SERVICES, {}, made.secret));
    await new Promise((r) => setTimeout(r, 50));
    expect(lastUsed().last_used_at).toBe(t0); // coalesced: no write within the minute
    clock.advance(31_000);
    ok(await s.gql(SERVICES, {}, made.secret));
    await expect.poll(() => lastUsed().last_used_at).toBe(t0 + 61_000);
    const view = ok(await s.gql<{ apiKeys: KeyView[] }>(KEYS)).apiKeys.find((k) => k.id === made.apiKey.id)!;
    expect(view).toMatchObject({ createdAt: new Date(t0).toISOString(), lastUsedAt: new Date(t0 + 61_000).toISOString(), expiresAt: null, fromEnvironment: false });
  });

  it("stops a key at its expiry (20401), and refuses an expiry in the past", async () => {
    const expiresAt = new Date(clock.now() + 3_600_000).toISOString();
    const made = ok(await s.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(`mutation($e: DateTimeISO) { createApiKey(role: ADMIN, name: "temp", expiresAt: $e) { secret apiKey { id } } }`, { e: expiresAt })).createApiKey;
    ok(await s.gql(SERVICES, {}, made.secret));
    clock.advance(3_600_000);
    expect(errorOf(await s.gql(SERVICES, {}, made.secret))).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
    const past = new Date(clock.now() - 1000).toISOString();
    expect(errorOf(await s.gql(`mutation($e: DateTimeISO) { createApiKey(role: ADMIN, expiresAt: $e) { secret } }`, { e: past }))).toMatchObject({ code: "INVALID_PARAMETER", message: "expiresAt: must be in the future" });
  });

  it("answers a second revocation with alreadyRevoked and the first revocation's time; an unknown id with 20404", async () => {
    const made = ok(await s.gql<{ createApiKey: { apiKey: { id: string } } }>(CREATE_API_KEY, { role: "ADMIN", name: "twice" })).createApiKey;
    const first = ok(await s.gql<{ revokeApiKey: { alreadyRevoked: boolean; apiKey: { revokedAt: string } } }>(REVOKE, { id: made.apiKey.id })).revokeApiKey;
    expect(first.alreadyRevoked).toBe(false);
    clock.advance(1000);
    const second = ok(await s.gql<{ revokeApiKey: { alreadyRevoked: boolean; apiKey: { revokedAt: string } } }>(REVOKE, { id: made.apiKey.id })).revokeApiKey;
    expect(second).toEqual({ alreadyRevoked: true, apiKey: { id: made.apiKey.id, revokedAt: first.apiKey.revokedAt } });
    expect(errorOf(await s.gql(REVOKE, { id: "VK00000000000000000000000000000000" }))).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
  });
});
