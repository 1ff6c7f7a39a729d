import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CANCEL,
  CHECK,
  CREATE_API_KEY,
  CREATE_SERVICE,
  OUTBOX,
  START,
  VERIFICATION,
  createClientKey,
  createCoreService,
  errorOf,
  freshMobile,
  latestCode,
  ok,
  queryDb,
  startServer,
  startVerification,
  type TestServer,
  type VerificationView,
} from "./helpers/harness.js";

/**
 * What each role may do, over real HTTP. ADMIN manages services, keys and the outbox. A CLIENT
 * (publishable) key is bound to one service and may only start, check and read that service's
 * verifications; everything else answers 20403, and another service's verification looks exactly
 * like one that does not exist (20404).
 */
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { alreadyRevoked apiKey { id revokedAt } } }`;

describe("auth: roles", () => {
  let s: TestServer;
  let a: string; // the client's service
  let b: string; // another service
  let client: { id: string; secret: string };

  beforeAll(async () => {
    s = await startServer();
    a = await createCoreService(s, { friendlyName: "Alpha" });
    b = await createCoreService(s, { friendlyName: "Beta" });
    client = await createClientKey(s, a);
  });
  afterAll(async () => s?.close());

  describe("an admin key", () => {
    it("manages services: create, update, read, list and delete", async () => {
      const id = await createCoreService(s, { friendlyName: "Temp" });
      expect(ok(await s.gql<{ updateService: { ttlSeconds: number } }>(`mutation($id: ID!) { updateService(id: $id, input: { ttlSeconds: 120 }) { ttlSeconds } }`, { id })).updateService.ttlSeconds).toBe(120);
      expect(ok(await s.gql<{ service: { friendlyName: string } }>(`query($id: ID!) { service(id: $id) { friendlyName } }`, { id })).service.friendlyName).toBe("Temp");
      expect(ok(await s.gql<{ services: { id: string }[] }>(`query { services { id } }`)).services.map((x) => x.id)).toEqual(expect.arrayContaining([a, b, id]));
      expect(ok(await s.gql<{ deleteService: boolean }>(`mutation($id: ID!) { deleteService(id: $id) }`, { id })).deleteService).toBe(true);
      expect(ok(await s.gql<{ deleteService: boolean }>(`mutation($id: ID!) { deleteService(id: $id) }`, { id })).deleteService).toBe(false);
    });

    it("manages keys: creates CLIENT keys, lists them without secrets, and revokes them", async () => {
      const key = await createClientKey(s, a);
      expect(key.id).toMatch(/^VK[0-9a-f]{32}$/);
      expect(key.secret).toMatch(/^vg_pk_/);
      const listed = ok(await s.gql<{ apiKeys: Record<string, unknown>[] }>(`query($id: ID) { apiKeys(serviceId: $id) { id role serviceId } }`, { id: a })).apiKeys;
      expect(listed).toContainEqual({ id: key.id, role: "CLIENT", serviceId: a });
      expect(JSON.stringify(listed)).not.toContain(key.secret);
      const revoked = ok(await s.gql<{ revokeApiKey: { alreadyRevoked: boolean; apiKey: { id: string; revokedAt: string | null } } }>(REVOKE, { id: key.id })).revokeApiKey;
      expect(revoked).toMatchObject({ alreadyRevoked: false, apiKey: { id: key.id, revokedAt: expect.any(String) } });
    });

    it("refuses a CLIENT key without a service and an ADMIN key bound to one (60200)", async () => {
      expect(errorOf(await s.gql(CREATE_API_KEY, { role: "CLIENT" }))).toMatchObject({ errorCode: 60200 });
      expect(errorOf(await s.gql(CREATE_API_KEY, { role: "ADMIN", serviceId: a }))).toMatchObject({ errorCode: 60200 });
      expect(errorOf(await s.gql(CREATE_API_KEY, { role: "CLIENT", serviceId: "VA00000000000000000000000000000000" }))).toMatchObject({ errorCode: 20404 });
    });

    it("reads the outbox, and acts on any service's verifications (start, check, read, cancel)", async () => {
      const to = freshMobile();
      const v = await startVerification(s, { serviceId: b, to });
      expect(ok(await s.gql<{ outboxMessages: { to: string }[] }>(OUTBOX, { to })).outboxMessages[0]?.to).toBe(to);
      expect(ok(await s.gql<{ verification: VerificationView }>(VERIFICATION, { serviceId: b, id: v.id })).verification.id).toBe(v.id);
      expect(ok(await s.gql<{ cancelVerification: { status: string } }>(CANCEL, { serviceId: b, id: v.id })).cancelVerification.status).toBe("CANCELED");
    });

    it("cannot revoke its own key (it would lock everyone out)", async () => {
      const keyId = queryDb<{ id: string }>(s, "select id from api_keys where origin = 'ADMIN_API_KEY'")[0]!.id;
      expect(errorOf(await s.gql(REVOKE, { id: keyId }))).toMatchObject({ errorCode: 60200 });
    });
  });

  describe("a CLIENT key", () => {
    it("starts, checks and reads verifications of its own service", async () => {
      const to = freshMobile();
      const v = await startVerification(s, { serviceId: a, to }, client.secret);
      expect(v.serviceId).toBe(a);
      const read = ok(await s.gql<{ verification: VerificationView }>(VERIFICATION, { serviceId: a, id: v.id }, client.secret)).verification;
      expect(read).toMatchObject({ id: v.id, status: "PENDING", to });
      const code = await latestCode(s, to); // the code reaches the user by SMS; the test reads it as admin
      const checked = ok(await s.gql<{ checkVerification: { status: string; valid: boolean } }>(CHECK, { input: { serviceId: a, to, code } }, client.secret));
      expect(checked.checkVerification).toMatchObject({ status: "APPROVED", valid: true });
    });

    it.each([
      ["create a service", CREATE_SERVICE, { input: { friendlyName: "Mine" } }],
      ["update its own service", `mutation($id: ID!) { updateService(id: $id, input: { maxCheckAttempts: 60 }) { id } }`, { id: "<a>" }],
      ["delete its own service", `mutation($id: ID!) { deleteService(id: $id) }`, { id: "<a>" }],
      ["list services", `query { services { id } }`, {}],
      ["read its own service's settings", `query($id: ID!) { service(id: $id) { id smsTemplate } }`, { id: "<a>" }],
      ["read another service", `query($id: ID!) { service(id: $id) { id } }`, { id: "<b>" }],
      ["read the outbox", OUTBOX, {}],
      ["create keys", CREATE_API_KEY, { role: "CLIENT", serviceId: "<a>" }],
      ["list keys", `query { apiKeys { id } }`, {}],
      ["revoke keys", REVOKE, { id: "<self>" }],
      ["cancel a verification", CANCEL, { serviceId: "<a>", id: "VE00000000000000000000000000000000" }],
      ["start a verification on another service", START, { input: { serviceId: "<b>", to: "+447400100010", channel: "SMS" } }],
      ["check a verification on another service", CHECK, { input: { serviceId: "<b>", to: "+447400100010", code: "123456" } }],
      ["read a verification through another service", VERIFICATION, { serviceId: "<b>", id: "VE00000000000000000000000000000000" }],
      ["turn off the risk checks", START, { input: { serviceId: "<a>", to: "+447400100011", channel: "SMS", riskCheck: "DISABLE" } }],
    ])("may not %s (20403)", async (_what, query, variables) => {
      const vars = JSON.parse(JSON.stringify(variables).replaceAll("<a>", a).replaceAll("<b>", b).replaceAll("<self>", client.id)) as Record<string, unknown>;
      const r = await s.gql(query, vars, client.secret);
      expect(r.data).toBeNull();
      expect(errorOf(r)).toMatchObject({ code: "FORBIDDEN", errorCode: 20403 });
    });

    it("sees another service's verification exactly as a verification that does not exist (20404)", async () => {
      const theirs = await startVerification(s, { serviceId: b, to: freshMobile() });
      const probe = await s.gql(VERIFICATION, { serviceId: a, id: theirs.id }, client.secret);
      const unknown = await s.gql(VERIFICATION, { serviceId: a, id: "VE00000000000000000000000000000000" }, client.secret);
      expect(errorOf(probe)).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
      expect(probe.errors).toEqual(unknown.errors);

      const check = await s.gql(CHECK, { input: { serviceId: a, verificationId: theirs.id, code: "123456" } }, client.secret);
      expect(errorOf(check)).toMatchObject({ code: "NOT_FOUND", errorCode: 20404 });
      // The probe neither counted an attempt nor moved the other service's verification.
      expect(queryDb(s, "select status, check_attempts from verifications where id = ?", theirs.id)).toEqual([{ status: "PENDING", check_attempts: 0 }]);
    });

    it("stops working once revoked (20401), while other keys keep working", async () => {
      const key = await createClientKey(s, a);
      await startVerification(s, { serviceId: a, to: freshMobile() }, key.secret);
      ok(await s.gql(REVOKE, { id: key.id }));

      const r = await s.gql(START, { input: { serviceId: a, to: freshMobile(), channel: "SMS" } }, key.secret);
      expect(errorOf(r)).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
      expect((await startVerification(s, { serviceId: a, to: freshMobile() }, client.secret)).status).toBe("PENDING");
    });

    it("stops working when its service is deleted (20401)", async () => {
      const gone = await createCoreService(s, { friendlyName: "Gone" });
      const key = await createClientKey(s, gone);
      ok(await s.gql(`mutation($id: ID!) { deleteService(id: $id) }`, { id: gone }));
      const r = await s.gql(START, { input: { serviceId: gone, to: freshMobile(), channel: "SMS" } }, key.secret);
      expect(errorOf(r)).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
    });
  });

  describe("a revoked admin key", () => {
    it("gets 20401 on everything", async () => {
      const made = ok(await s.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_API_KEY, { role: "ADMIN", name: "ops" })).createApiKey;
      expect(ok(await s.gql<{ services: unknown[] }>(`query { services { id } }`, {}, made.secret)).services.length).toBeGreaterThan(0);
      ok(await s.gql(REVOKE, { id: made.apiKey.id }));
      expect(errorOf(await s.gql(`query { services { id } }`, {}, made.secret))).toMatchObject({ code: "UNAUTHENTICATED", errorCode: 20401 });
    });
  });
});
