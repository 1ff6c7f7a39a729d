import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK, START, createService, latestCode, ok, startServer, type TestServer } from "./helpers/harness.js";

describe("verification lifecycle over HTTP (happy path)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it("creates a service, starts, reads the outbox, checks and approves", async () => {
    const serviceId = await createService(s, { friendlyName: "Acme" });
    expect(serviceId).toMatch(/^VA[0-9a-f]{32}$/);
    const started = ok(await s.gql<{ startVerification: { id: string; status: string; to: string; lookup: { countryCode: string } } }>(START, {
      input: { serviceId, to: "+447400123456", channel: "SMS" },
    })).startVerification;
    expect(started.id).toMatch(/^VE[0-9a-f]{32}$/);
    expect(started.status).toBe("PENDING");
    expect(started.lookup.countryCode).toBe("GB");

    const code = await latestCode(s, "+447400123456");
    expect(code).toHaveLength(6);
    const checked = ok(await s.gql<{ checkVerification: { status: string; valid: boolean } }>(CHECK, { input: { serviceId, to: "+447400123456", code } })).checkVerification;
    expect(checked).toMatchObject({ status: "APPROVED", valid: true });
  });
});
