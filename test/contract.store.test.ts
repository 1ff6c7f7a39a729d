import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../src/store/types.js";
import { storeBackends, type OpenedBackend } from "./helpers/store-backends.js";
import { T0, apiKeyRow, attemptRow, decisionRow, serviceRow, startInput, verificationRow } from "./helpers/store-fixtures.js";

/**
 * The Store contract: the same tests against every implementation (SQLite, PostgreSQL). Race tests use
 * a second handle on the same database, as a second process or instance would, so the guarantees
 * checked here are the database's, not one process's event loop.
 */
describe.each(storeBackends())("Store contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "on a fresh database", () => {
    let b: OpenedBackend;
    let store: Store;
    let other: Store;
    beforeAll(async () => {
      b = await backend.open();
      store = b.db.store;
      other = (await b.another()).store;
    });
    afterAll(async () => b?.close());

    const newService = async (over = {}) => {
      const s = serviceRow(over);
      await store.insertService(s);
      return s;
    };

    it("stores a service and reads it back field for field, settings JSON included", async () => {
      const s = await newService({ smsTemplate: "{code}", riskSettings: { protectionLevel: "MAX", rateLimits: [{ uniqueName: "u", buckets: [{ max: 3, intervalSeconds: 60 }] }] } });
      expect(await store.getService(s.id)).toEqual(s);
      expect(await other.getService(s.id)).toEqual(s);
    });

    it("updates a service partially and answers null for an unknown one", async () => {
      const s = await newService();
      const updated = await store.updateService(s.id, { friendlyName: "Renamed", riskSettings: { dailyBudgetCents: 500 }, updatedAt: T0 + 1 });
      expect(updated).toEqual({ ...s, friendlyName: "Renamed", riskSettings: { dailyBudgetCents: 500 }, updatedAt: T0 + 1 });
      expect(await store.updateService("VA" + "0".repeat(32), { updatedAt: T0 })).toBeNull();
    });

    it("lists services oldest first and deletes one with its keys and verifications", async () => {
      const a = await newService({ createdAt: T0 + 10 });
      const c = await newService({ createdAt: T0 + 11 });
      const ids = (await store.listServices()).map((s) => s.id);
      expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(c.id));
      const key = apiKeyRow({ role: "CLIENT", serviceId: a.id });
      await store.insertApiKey(key);
      const v = verificationRow(a.id);
      await store.createOrResend({ fresh: v, attempt: attemptRow(v.id), maxSendAttempts: 5, now: T0 });
      expect(await store.deleteService(a.id)).toBe(true);
      expect(await store.deleteService(a.id)).toBe(false);
      expect(await store.findApiKeyByHash(key.keyHash)).toBeNull();
      expect(await store.getVerification(v.id)).toBeNull();
    });

    it("finds keys by hash, counts only live admin keys and revokes a key once", async () => {
      const before = await store.countAdminKeys();
      const admin = apiKeyRow();
      await store.insertApiKey(admin);
      expect(await store.findApiKeyByHash(admin.keyHash)).toEqual(admin);
      expect(await store.countAdminKeys()).toBe(before + 1);
      expect(await store.revokeApiKey(admin.id, T0 + 5)).toBe(true);
      expect(await store.revokeApiKey(admin.id, T0 + 6)).toBe(false);
      expect((await store.findApiKeyByHash(admin.keyHash))?.revokedAt).toBe(T0 + 5);
      expect((await store.getApiKey(admin.id))?.revokedAt).toBe(T0 + 5);
      expect(await store.getApiKey("VK00000000000000000000000000000000")).toBeNull();
      await store.touchApiKey(admin.id, T0 + 7);
      expect(await store.getApiKey(admin.id)).toMatchObject({ lastUsedAt: T0 + 7, expiresAt: null, origin: null });
      expect(await store.countAdminKeys()).toBe(before);
      const s = await newService();
      const client = apiKeyRow({ role: "CLIENT", serviceId: s.id });
      await store.insertApiKey(client);
      expect(await store.listApiKeys(s.id)).toEqual([client]);
    });

    it("creates a verification, then resends on it until the send cap, then refuses", async () => {
      const s = await newService();
      const first = startInput(s.id, T0, { to: "+447400000001" }, 3);
      const created = await store.createOrResend(first);
      expect(created).toMatchObject({ kind: "created", verification: first.fresh });
      const again = startInput(s.id, T0 + 1000, { to: "+447400000001", channel: "CALL" }, 3);
      const resent = await store.createOrResend(again);
      expect(resent.kind).toBe("resent");
      if (resent.kind !== "resent") return;
      expect(resent.verification).toMatchObject({ id: first.fresh.id, sendAttempts: 2, channel: "CALL", updatedAt: T0 + 1000 });
      expect(resent.attempt.verificationId).toBe(first.fresh.id);
      expect((await store.createOrResend(startInput(s.id, T0 + 2000, { to: "+447400000001" }, 3))).kind).toBe("resent");
      const capped = await store.createOrResend(startInput(s.id, T0 + 3000, { to: "+447400000001" }, 3));
      expect(capped).toMatchObject({ kind: "max_sends", verification: { id: first.fresh.id, sendAttempts: 3 } });
      expect((await store.listSendAttempts(first.fresh.id)).map((a) => a.at)).toEqual([T0, T0 + 1000, T0 + 2000]);
    });

    it("lists sends made in the same millisecond in the order they were made, as plain rows", async () => {
      const s = await newService();
      const first = startInput(s.id, T0, { to: "+447400000009" }, 5);
      await store.createOrResend(first);
      const ids = [first.attempt.id];
      for (const channel of ["CALL", "SMS", "CALL"] as const) {
        const r = await store.createOrResend(startInput(s.id, T0, { to: "+447400000009", channel }, 5));
        if (r.kind === "resent") ids.push(r.attempt.id);
      }
      const listed = await store.listSendAttempts(first.fresh.id);
      expect(listed.map((a) => a.id)).toEqual(ids);
      expect(listed.map((a) => a.channel)).toEqual(["SMS", "CALL", "SMS", "CALL"]);
      // Internal ordering columns (PostgreSQL's seq) never leak into the Store's rows.
      expect(Object.keys(listed[0]!).sort()).toEqual(Object.keys(first.attempt).sort());
    });

    it("expires a pending verification past its TTL and creates a fresh one in its place", async () => {
      const s = await newService();
      const first = startInput(s.id, T0, { to: "+447400000002" });
      await store.createOrResend(first);
      const later = startInput(s.id, T0 + 600_000, { to: "+447400000002" });
      expect((await store.createOrResend(later)).kind).toBe("created");
      expect((await store.getVerification(first.fresh.id))?.status).toBe("EXPIRED");
      expect((await store.findPending(s.id, "+447400000002"))?.id).toBe(later.fresh.id);
      expect((await store.findLatest(s.id, "+447400000002"))?.id).toBe(later.fresh.id);
    });

    it("collapses concurrent starts for one number on two handles into one pending verification", async () => {
      const s = await newService();
      const inputs = Array.from({ length: 12 }, (_, i) => startInput(s.id, T0 + i, { to: "+447400000003" }, 5));
      const results = await Promise.all(inputs.map((input, i) => (i % 2 ? other : store).createOrResend(input)));
      const kinds = results.map((r) => r.kind);
      expect(kinds.filter((k) => k === "created")).toHaveLength(1);
      expect(kinds.filter((k) => k === "resent")).toHaveLength(4);
      expect(kinds.filter((k) => k === "max_sends")).toHaveLength(7);
      const pending = await store.findPending(s.id, "+447400000003");
      expect(pending?.sendAttempts).toBe(5);
      expect(await store.listSendAttempts(pending!.id)).toHaveLength(5);
    });

    it("approves exactly once when two handles approve the same verification at once", async () => {
      const s = await newService();
      const input = startInput(s.id, T0, { to: "+447400000004" });
      await store.createOrResend(input);
      const results = await Promise.all([store, other, store, other].map((h) => h.approve(input.fresh.id, 5, T0 + 1)));
      expect(results.filter((r) => r.kind === "approved")).toHaveLength(1);
      for (const r of results.filter((r) => r.kind !== "approved")) {
        expect(r).toMatchObject({ kind: "not_pending", verification: { status: "APPROVED" } });
      }
      expect((await store.getVerification(input.fresh.id))?.checkAttempts).toBe(1);
    });

    it("counts concurrent wrong checks up to the limit and no further", async () => {
      const s = await newService();
      const input = startInput(s.id, T0, { to: "+447400000005" });
      await store.createOrResend(input);
      const results = await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 2 ? other : store).recordWrongCheck(input.fresh.id, 5, T0 + 1)));
      const wrong = results.filter((r) => r.kind === "wrong");
      expect(wrong).toHaveLength(5);
      expect(wrong.filter((r) => r.verification.status === "MAX_ATTEMPTS_REACHED")).toHaveLength(1);
      expect(await store.getVerification(input.fresh.id)).toMatchObject({ status: "MAX_ATTEMPTS_REACHED", checkAttempts: 5 });
    });

    it("refuses checks on an expired verification without counting them", async () => {
      const s = await newService();
      const input = startInput(s.id, T0, { to: "+447400000006" });
      await store.createOrResend(input);
      expect(await store.approve(input.fresh.id, 5, T0 + 600_000)).toMatchObject({ kind: "not_pending", verification: { status: "PENDING", checkAttempts: 0 } });
      expect((await store.recordWrongCheck(input.fresh.id, 5, T0 + 600_000)).kind).toBe("not_pending");
    });

    /**
     * The `check_attempts < max` guard on its own: a verification still PENDING whose attempts already
     * reach the limit (an admin lowered the service's maxCheckAttempts after three wrong codes) takes
     * neither a right code nor another wrong one, whichever way the check is written.
     */
    it("refuses every check once check_attempts reaches the limit, even while the row is still PENDING", async () => {
      const s = await newService();
      const input = startInput(s.id, T0, { to: "+447400000016" });
      await store.createOrResend(input);
      for (let i = 0; i < 3; i++) expect((await store.recordWrongCheck(input.fresh.id, 5, T0 + 1)).kind).toBe("wrong");
      const spent = { kind: "not_pending", verification: { status: "PENDING", checkAttempts: 3 } };
      expect(await store.approve(input.fresh.id, 3, T0 + 2)).toMatchObject(spent);
      expect(await other.recordWrongCheck(input.fresh.id, 3, T0 + 2)).toMatchObject(spent);
      const decision = decisionRow(s.id, { kind: "CHECK", verificationId: input.fresh.id });
      const none = { counts: [] };
      expect(await store.commitCheck({ id: input.fresh.id, matched: true, maxCheckAttempts: 3, now: T0 + 2, decision, writes: none, approved: none })).toMatchObject(spent);
      expect(await store.getVerification(input.fresh.id)).toMatchObject({ status: "PENDING", checkAttempts: 3 });
    });

    it("moves only pending verifications to a final status", async () => {
      const s = await newService();
      const input = startInput(s.id, T0, { to: "+447400000007" });
      await store.createOrResend(input);
      expect(await store.setFinalStatus(input.fresh.id, "CANCELED", T0 + 5)).toMatchObject({ status: "CANCELED", updatedAt: T0 + 5 });
      expect(await store.setFinalStatus(input.fresh.id, "FAILED", T0 + 6)).toBeNull();
      expect((await store.findLatest(s.id, "+447400000007"))?.status).toBe("CANCELED");
      expect(await store.findPending(s.id, "+447400000007")).toBeNull();
    });

    it("expires each due verification once when two sweepers run at the same time", async () => {
      const s = await newService();
      const due = Array.from({ length: 6 }, (_, i) => startInput(s.id, T0 - 1_000_000, { to: `+44740001000${i}`, expiresAt: T0 - 1 }));
      for (const d of due) await store.createOrResend(d);
      const live = startInput(s.id, T0, { to: "+447400010009" });
      await store.createOrResend(live);
      const [a, c] = await Promise.all([store.expireDue(T0), other.expireDue(T0)]);
      const ids = [...a, ...c].map((v) => v.id).filter((id) => due.some((d) => d.fresh.id === id));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(due.map((d) => d.fresh.id).sort());
      expect((await store.getVerification(live.fresh.id))?.status).toBe("PENDING");
    });

    it("finds a send attempt by the provider SID the delivery recorded on it", async () => {
      const s = await newService();
      const input = startInput(s.id, T0, { to: "+447400000008" });
      await store.createOrResend(input);
      const recorded = await b.db.delivery.recordAttemptStatus(input.attempt.id, { status: "delivered", providerSid: "SM123", price: "-0.0075", priceUnit: "USD" });
      expect(recorded).toEqual({ ...input.attempt, providerSid: "SM123", deliveryStatus: "delivered", price: "-0.0075", priceUnit: "USD" });
      expect(await store.findSendAttemptByProviderSid("SM123")).toEqual(recorded);
      expect(await store.findSendAttemptByProviderSid("SM" + "0".repeat(32))).toBeNull();
    });

    it("marks only the allowed start decisions of a verification as converted", async () => {
      const s = await newService();
      const vid = "VE" + "1".repeat(32);
      const rows = [
        decisionRow(s.id, { verificationId: vid }),
        decisionRow(s.id, { verificationId: vid, kind: "CHECK" }),
        decisionRow(s.id, { verificationId: vid, outcome: "BLOCKED", stage: "verification", code: "MAX_SEND_ATTEMPTS_REACHED" }),
        decisionRow(s.id, { verificationId: "VE" + "2".repeat(32) }),
      ];
      for (const r of rows) await store.insertDecision(r);
      await store.markConverted(vid);
      const converted = await b.query<{ id: string }>("select id from risk_decisions where service_id = $1 and converted order by id", [s.id]);
      expect(converted.map((r) => r.id)).toEqual([rows[0]!.id]);
    });

    it("answers the health probe", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
});
