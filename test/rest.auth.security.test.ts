import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, CREATE_API_KEY, createCoreService, freshMobile, latestCode, ok, startServer, type TestServer } from "./helpers/harness.js";
import { accountSidOf, restError, twilioClient, type TwilioClient } from "./helpers/twilio-client.js";

/**
 * Who may do what on the REST API: HTTP Basic as Twilio's SDK sends it, with the instance's account
 * SID or an API key's SK… SID as the username and a key as the password; each key keeps the role it
 * has on GraphQL (a client key reaches only its own service's verifications).
 */

interface CreatedKey {
  secret: string;
  apiKey: { id: string; sid: string; role: string };
}

describe("REST API authentication and roles", () => {
  let s: TestServer;
  let accountSid: string;
  let serviceA: string;
  let serviceB: string;
  let clientA: CreatedKey;
  let admin2: CreatedKey;

  const createKey = async (role: "ADMIN" | "CLIENT", serviceId?: string): Promise<CreatedKey> =>
    ok(await s.gql<{ createApiKey: CreatedKey }>(CREATE_API_KEY.replace("apiKey { id role serviceId }", "apiKey { id sid role serviceId }"), { role, serviceId })).createApiKey;

  beforeAll(async () => {
    s = await startServer();
    accountSid = await accountSidOf(s);
    serviceA = await createCoreService(s, { friendlyName: "Alpha" });
    serviceB = await createCoreService(s, { friendlyName: "Beta" });
    clientA = await createKey("CLIENT", serviceA);
    admin2 = await createKey("ADMIN");
  });
  afterAll(async () => s?.close());

  it("generates an account SID on first start, keeps it across restarts, and gives every key an SK sid", async () => {
    expect(accountSid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(clientA.apiKey.sid).toBe("SK" + clientA.apiKey.id.slice(2));
    const again = await startServer({ dbFile: s.dbFile });
    try {
      expect(await accountSidOf(again)).toBe(accountSid);
    } finally {
      await again.close();
    }
  });

  it("takes VERIFY_ACCOUNT_SID when it is set", async () => {
    const configured = "AC" + "5".repeat(32);
    const other = await startServer({ env: { VERIFY_ACCOUNT_SID: configured } });
    try {
      expect(await accountSidOf(other)).toBe(configured);
      const services = await twilioClient(other, configured, ADMIN_KEY).verify.v2.services.list();
      expect(services).toEqual([]);
      expect(await restError(twilioClient(other, "AC" + "6".repeat(32), ADMIN_KEY).verify.v2.services.list())).toMatchObject({ status: 401, code: 20003 });
    } finally {
      await other.close();
    }
  });

  it("twilio(accountSid, adminKey) acts as admin: creates services and approves by hand", async () => {
    const client = twilioClient(s, accountSid, ADMIN_KEY);
    const svc = await client.verify.v2.services.create({ friendlyName: "Gamma" });
    const v = await client.verify.v2.services(svc.sid).verifications.create({ to: freshMobile(), channel: "sms" });
    expect(await client.verify.v2.services(svc.sid).verifications(v.sid).update({ status: "approved" })).toMatchObject({ status: "approved" });
  });

  it("twilio(apiKeySid, apiKeySecret, { accountSid }) works with the key's role: another admin key is admin", async () => {
    const client = twilioClient(s, admin2.apiKey.sid, admin2.secret, accountSid);
    const list = await client.verify.v2.services.list();
    expect(list.map((x) => x.sid)).toEqual(expect.arrayContaining([serviceA, serviceB]));
  });

  it("a client key (by its SK sid or with the account SID) starts, checks and reads its own service's verifications", async () => {
    for (const client of [twilioClient(s, clientA.apiKey.sid, clientA.secret, accountSid), twilioClient(s, accountSid, clientA.secret)]) {
      const to = freshMobile();
      const v = await client.verify.v2.services(serviceA).verifications.create({ to, channel: "sms" });
      expect((await client.verify.v2.services(serviceA).verifications(v.sid).fetch()).status).toBe("pending");
      const code = await latestCode(s, to);
      expect(await client.verify.v2.services(serviceA).verificationChecks.create({ to, code })).toMatchObject({ status: "approved", valid: true });
    }
  });

  describe("a client key beyond its role", () => {
    let client: TwilioClient;
    beforeAll(() => {
      client = twilioClient(s, clientA.apiKey.sid, clientA.secret, accountSid);
    });

    it.each([
      ["starting on another service", () => client.verify.v2.services(serviceB).verifications.create({ to: freshMobile(), channel: "sms" })],
      ["checking on another service", () => client.verify.v2.services(serviceB).verificationChecks.create({ to: freshMobile(), code: "123456" })],
      ["reading another service's verification", () => client.verify.v2.services(serviceB).verifications(freshMobile()).fetch()],
      ["listing services", () => client.verify.v2.services.list()],
      ["reading its own service's settings", () => client.verify.v2.services(serviceA).fetch()],
      ["creating a service", () => client.verify.v2.services.create({ friendlyName: "Mine" })],
      ["deleting its own service", () => client.verify.v2.services(serviceA).remove()],
      ["cancelling", () => client.verify.v2.services(serviceA).verifications(freshMobile()).update({ status: "canceled" })],
      ["approving by hand", () => client.verify.v2.services(serviceA).verifications(freshMobile()).update({ status: "approved" })],
      ["skipping the risk checks (RiskCheck=disable)", () => client.verify.v2.services(serviceA).verifications.create({ to: freshMobile(), channel: "sms", riskCheck: "disable" })],
      ["naming the end user's IP (DeviceIp)", () => client.verify.v2.services(serviceA).verifications.create({ to: freshMobile(), channel: "sms", deviceIp: "203.0.113.9" })],
    ])("is refused with 403 / 20403: %s", async (_what, call) => {
      expect(await restError(call())).toMatchObject({ status: 403, code: 20403 });
    });
  });

  it.each([
    ["an unknown key", (sid: string) => [sid, "vg_admin_not_a_key_0123456789abcdef"]],
    ["another key's SK sid", () => [admin2.apiKey.sid, clientA.secret]],
    ["an SK sid that belongs to no key", () => ["SK" + "0".repeat(32), ADMIN_KEY]],
    ["another account SID", () => ["AC" + "f".repeat(32), ADMIN_KEY]],
    ["an empty password", (sid: string) => [sid, " "]],
  ])("refuses %s with 401 / 20003", async (_what, creds) => {
    const [user, pass] = creds(accountSid) as [string, string];
    const e = await restError(twilioClient(s, user, pass, accountSid).verify.v2.services(serviceA).verifications.create({ to: freshMobile(), channel: "sms" }));
    expect(e).toMatchObject({ status: 401, code: 20003 });
    expect(e.moreInfo).toBe("https://www.twilio.com/docs/errors/20003");
  });

  it("refuses a request without credentials, or with a malformed Authorization header, with 401 / 20003 and WWW-Authenticate", async () => {
    for (const authorization of [undefined, "Basic !!!", "Basic " + Buffer.from("no-colon").toString("base64"), "Digest x", "Bearer wrong"]) {
      const res = await fetch(`${s.url}/v2/Services`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
      expect(await res.json()).toMatchObject({ code: 20003, status: 401 });
    }
  });

  it("accepts a bearer key as GraphQL does (for curl)", async () => {
    const res = await fetch(`${s.url}/v2/Services/${serviceA}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sid: serviceA, friendly_name: "Alpha" });
  });

  it("refuses a revoked key at once", async () => {
    const key = await createKey("CLIENT", serviceA);
    const client = twilioClient(s, key.apiKey.sid, key.secret, accountSid);
    await client.verify.v2.services(serviceA).verifications.create({ to: freshMobile(), channel: "sms" });
    ok(await s.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { alreadyRevoked } }`, { id: key.apiKey.id }));
    expect(await restError(client.verify.v2.services(serviceA).verifications.create({ to: freshMobile(), channel: "sms" }))).toMatchObject({ status: 401, code: 20003 });
  });
});
