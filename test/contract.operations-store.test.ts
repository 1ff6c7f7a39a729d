import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryAlertRow, DeliveryAlertStore } from "../src/store/alerts.js";
import type { ApprovalStore } from "../src/store/approval.js";
import { noWrites } from "../src/risk/types.js";
import type { Store, VerificationRow } from "../src/store/types.js";
import type { EventRows, WebhookDeliveryRow, WebhookStore } from "../src/store/webhooks.js";
import { storeBackends, type OpenedBackend } from "./helpers/store-backends.js";
import { T0, attemptRow, decisionRow, serviceRow, startInput, verificationRow } from "./helpers/store-fixtures.js";

let n = 0;
const delivery = (serviceId: string, orderKey: string, over: Partial<WebhookDeliveryRow> = {}): WebhookDeliveryRow => ({
  id: `msg_${(n++).toString(16).padStart(32, "0")}`,
  serviceId,
  orderKey,
  seq: T0 * 4096 + n,
  eventType: "verification.started",
  payload: "{}",
  status: "pending",
  attempts: 0,
  runAt: T0,
  leaseOwner: null,
  leaseUntil: null,
  lastStatus: null,
  lastError: null,
  requestId: null,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

/** An open DELIVERED_RATE alert of GB SMS for the service. */
const alertRow = (serviceId: string, id: string): DeliveryAlertRow => ({
  id,
  serviceId,
  country: "GB",
  channel: "SMS",
  metric: "DELIVERED_RATE",
  openKey: `${serviceId}|GB|SMS|DELIVERED_RATE`,
  raisedAt: T0,
  resolvedAt: null,
  sends: 22,
  rate: 0.1,
  baseline: 0.9,
  baselineSends: 200,
  recoveredRate: null,
  recoveredSends: null,
});

/**
 * The operations stores (webhook outbox, delivery alerts, approval keys): the same answers on SQLite
 * and PostgreSQL, including the guards that make instances agree (queue heads, unique open alerts,
 * first key wins, single redemption).
 */
describe.each(storeBackends())("Operations store contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "on a fresh database", () => {
    let b: OpenedBackend;
    let store: Store;
    let webhooks: WebhookStore;
    let otherWebhooks: WebhookStore;
    let alerts: DeliveryAlertStore;
    let approvals: ApprovalStore;
    beforeAll(async () => {
      b = await backend.open();
      ({ store, webhooks, alerts, approvals } = b.db);
      otherWebhooks = (await b.another()).webhooks;
    });
    afterAll(async () => b?.close());

    const service = async () => {
      const s = serviceRow();
      await store.insertService(s);
      return s.id;
    };

    it("claims only the head of each order key, in order, and never one delivery twice", async () => {
      const sid = await service();
      const a1 = delivery(sid, "VEa");
      const a2 = delivery(sid, "VEa");
      const b1 = delivery(sid, "VEb");
      for (const d of [a1, a2, b1]) await webhooks.enqueue(d);
      const [first, second] = await Promise.all([webhooks.claimDue("w1", T0, 10_000, 10), otherWebhooks.claimDue("w2", T0, 10_000, 10)]);
      const claimed = [...first, ...second].map((d) => d.id).sort();
      expect(claimed).toEqual([a1.id, b1.id].sort());
      // a2 waits while a1 is out, even when a1 is rescheduled for later.
      const owner = first.some((d) => d.id === a1.id) ? "w1" : "w2";
      expect(await webhooks.reschedule(a1.id, owner, T0 + 5_000, 500, "HTTP 500", T0)).toBe(true);
      expect((await webhooks.claimDue("w1", T0 + 1_000, 10_000, 10)).map((d) => d.id)).toEqual([]);
      // The next one due is a1's retry (b1's lease ends later), not a2, due now but waiting behind a1.
      expect(await webhooks.nextDueAt()).toBe(T0 + 5_000);
      const again = await webhooks.claimDue("w1", T0 + 5_000, 10_000, 10);
      expect(again.map((d) => [d.id, d.attempts])).toEqual([[a1.id, 2]]);
      expect(await webhooks.finish(a1.id, "w2", "delivered", 200, null, T0 + 5_000)).toBe(false); // not its lease
      expect(await webhooks.finish(a1.id, "w1", "delivered", 200, null, T0 + 5_000)).toBe(true);
      expect((await webhooks.claimDue("w1", T0 + 5_000, 10_000, 10)).map((d) => d.id)).toEqual([a2.id]);
      // A dead worker's lease expires and the delivery is claimed again.
      expect((await webhooks.claimDue("w2", T0 + 16_000, 10_000, 10)).map((d) => d.id).sort()).toEqual([a2.id, b1.id].sort());
    });

    it("commits an event's webhook deliveries with the change it reports, and rolls the change back when they cannot be written", async () => {
      const sid = await service();
      let k = 0;
      const mobile = () => `+4474005${String(k++).padStart(5, "0")}`;
      // A delivery already in the outbox: building another with its id makes the INSERT fail inside the
      // change's transaction, as a crash or a full disk would.
      const taken = delivery(sid, "taken");
      await webhooks.enqueue(taken);
      const seen: unknown[] = [];
      const builds = <T>(row: T) => {
        seen.push(row);
        return [delivery(sid, `k${seen.length}`)];
      };
      const clash = () => [{ ...delivery(sid, "clash"), id: taken.id }];
      const outbox = async () => (await webhooks.listDeliveries(sid, 500)).length;
      const pending = async () => {
        const input = startInput(sid, T0, { to: mobile() });
        await store.createOrResend(input);
        return input;
      };

      // A start: nothing at all is created when its event cannot be written.
      const start = startInput(sid, T0, { to: mobile() });
      await expect(store.createOrResend({ ...start, events: clash })).rejects.toThrow();
      expect(await store.findPending(sid, start.fresh.to)).toBeNull();
      let before = await outbox();
      expect((await store.createOrResend({ ...start, events: builds })).kind).toBe("created");
      expect(await outbox()).toBe(before + 1);
      expect(seen.at(-1)).toMatchObject({ kind: "created", verification: { id: start.fresh.id } });

      // Checks (with their decision rows), final moves and the expiry sweep: the row stays as it was.
      const v = (await pending()).fresh;
      const check = (matched: boolean, events: EventRows<VerificationRow>) =>
        store.commitCheck({ id: v.id, matched, maxCheckAttempts: 5, now: T0, decision: decisionRow(sid, { kind: "CHECK", verificationId: v.id }), writes: noWrites(), approved: noWrites(), events });
      await expect(check(true, clash)).rejects.toThrow();
      await expect(check(false, clash)).rejects.toThrow();
      await expect(store.setFinalStatus(v.id, "CANCELED", T0, clash)).rejects.toThrow();
      expect(await store.getVerification(v.id)).toMatchObject({ status: "PENDING", checkAttempts: 0 });
      expect(await b.query("select id from risk_decisions where verification_id = $1", [v.id])).toEqual([]);
      before = await outbox();
      expect((await check(false, builds)).kind).toBe("wrong");
      expect((await check(true, builds)).kind).toBe("approved");
      expect(await outbox()).toBe(before + 2);
      expect(seen.at(-1)).toMatchObject({ id: v.id, status: "APPROVED", checkAttempts: 2 });
      // A write that moves nothing writes no delivery either.
      expect(await store.setFinalStatus(v.id, "CANCELED", T0, builds)).toBeNull();
      expect(await outbox()).toBe(before + 2);

      const due = (await pending()).fresh; // expires at T0 + 600 s
      await expect(store.expireDue(T0 + 600_000, 500, clash)).rejects.toThrow();
      expect((await store.getVerification(due.id))?.status).toBe("PENDING");
      expect((await store.expireDue(T0 + 600_000, 500, builds)).map((r) => r.id)).toContain(due.id);
      expect(seen).toContainEqual(expect.objectContaining({ id: due.id, status: "EXPIRED" }));

      // A risk decision (RISK_BLOCKED) and a delivery status (DELIVERY_STATUS, built with its verification).
      const blocked = decisionRow(sid, { outcome: "BLOCKED", stage: "prefix", code: "PREFIX_BLOCKED" });
      await expect(store.commitDecision(blocked, noWrites(), clash)).rejects.toThrow();
      expect(await b.query("select id from risk_decisions where id = $1", [blocked.id])).toEqual([]);
      await store.commitDecision(blocked, noWrites(), builds);
      expect(await b.query("select id from risk_decisions where id = $1", [blocked.id])).toHaveLength(1);
      const sent = await pending();
      await expect(b.db.delivery.recordAttemptStatus(sent.attempt.id, { status: "delivered", providerSid: "SMx1" }, clash)).rejects.toThrow();
      expect((await store.listSendAttempts(sent.fresh.id))[0]).toMatchObject({ deliveryStatus: "queued", providerSid: null });
      expect(await b.db.delivery.recordAttemptStatus(sent.attempt.id, { status: "delivered", providerSid: "SMx1" }, builds)).toMatchObject({ deliveryStatus: "delivered" });
      expect(seen.at(-1)).toMatchObject({ attempt: { id: sent.attempt.id, deliveryStatus: "delivered" }, verification: { id: sent.fresh.id } });

      // An alert raised and cleared.
      const alert = alertRow(sid, "ALtx" + sid);
      await expect(alerts.raise(alert, clash)).rejects.toThrow();
      expect(await alerts.list({ serviceId: sid, open: null, limit: 10 })).toEqual([]);
      expect(await alerts.raise(alert, builds)).toBe(true);
      await expect(alerts.resolve(alert.id, T0 + 1, 0.9, 30, clash)).rejects.toThrow();
      expect((await alerts.list({ serviceId: sid, open: true, limit: 10 })).map((a) => a.id)).toEqual([alert.id]);
      expect(await alerts.resolve(alert.id, T0 + 1, 0.9, 30, builds)).toMatchObject({ id: alert.id, recoveredRate: 0.9 });
      // Every successful write above left exactly its own delivery; every refused one none.
      expect(await outbox()).toBe(1 + seen.length);
    });

    it("keeps one endpoint per service, updated in place", async () => {
      const sid = await service();
      await webhooks.upsertEndpoint({ serviceId: sid, url: "https://a.example/h", events: '["VERIFICATION_APPROVED"]', sealedSecret: "v1.x", createdAt: T0, updatedAt: T0 });
      await webhooks.upsertEndpoint({ serviceId: sid, url: "https://b.example/h", events: "[]", sealedSecret: "v1.y", createdAt: T0 + 1, updatedAt: T0 + 1 });
      expect(await webhooks.getEndpoint(sid)).toMatchObject({ url: "https://b.example/h", sealedSecret: "v1.y", createdAt: T0, updatedAt: T0 + 1 });
      expect(await webhooks.deleteEndpoint(sid)).toBe(true);
      expect(await webhooks.getEndpoint(sid)).toBeNull();
    });

    it("counts sends per service, country and channel, split into baseline and recent", async () => {
      const sid = await service();
      let k = 0;
      const add = async (at: number, country: string, delivered: boolean, approved: boolean) => {
        const v = verificationRow(sid, { to: `+4474001234${k++}0`, expiresAt: at + 600_000, countryCode: country, createdAt: at, updatedAt: at, status: approved ? "APPROVED" : "PENDING" });
        await store.createOrResend({ fresh: v, attempt: attemptRow(v.id, { at, deliveryStatus: delivered ? "delivered" : "undelivered" }), maxSendAttempts: 5, now: at });
      };
      await add(T0 + 1_000, "GB", true, true);
      await add(T0 + 2_000, "GB", true, false);
      await add(T0 + 10_000, "GB", false, false);
      await add(T0 + 11_000, "FR", true, true);
      const figures = (await alerts.figures(T0, T0 + 5_000, T0 + 20_000)).filter((f) => f.serviceId === sid).sort((x, y) => x.country.localeCompare(y.country));
      expect(figures).toEqual([
        { serviceId: sid, country: "FR", channel: "SMS", recentSends: 1, recentDelivered: 1, recentApproved: 1, baseSends: 0, baseDelivered: 0, baseApproved: 0 },
        { serviceId: sid, country: "GB", channel: "SMS", recentSends: 1, recentDelivered: 0, recentApproved: 0, baseSends: 2, baseDelivered: 2, baseApproved: 1 },
      ]);
    });

    it("raises an alert once while it is open, and clears it once", async () => {
      const sid = await service();
      const row = (id: string) => alertRow(sid, id);
      expect(await alerts.raise(row("AL1" + sid))).toBe(true);
      expect(await alerts.raise(row("AL2" + sid))).toBe(false);
      expect((await alerts.resolve("AL1" + sid, T0 + 1, 0.85, 30))?.recoveredRate).toBe(0.85);
      expect(await alerts.resolve("AL1" + sid, T0 + 2, 0.9, 30)).toBeNull();
      expect(await alerts.raise(row("AL3" + sid))).toBe(true); // a new episode after the first cleared
      expect((await alerts.list({ serviceId: sid, open: false, limit: 10 })).map((a) => a.id)).toEqual(["AL1" + sid]);
      expect((await alerts.list({ serviceId: sid, open: true, limit: 10 })).map((a) => a.id)).toEqual(["AL3" + sid]);
    });

    it("keeps the first key of a period and redeems a token once", async () => {
      const key = { kid: "vg-test", alg: "EdDSA", publicJwk: "{}", sealedPrivateJwk: "v1.a", activatesAt: T0, createdAt: T0 };
      await approvals.insertKeyIfAbsent(key);
      await approvals.insertKeyIfAbsent({ ...key, publicJwk: '{"other":1}' });
      expect(await approvals.keysBetween(T0, T0)).toEqual([key]);
      const r = { jti: "VE-redeem", serviceId: "VA1", redeemedAt: T0, expiresAt: T0 + 300_000 };
      expect(await approvals.redeem(r)).toBe(true);
      expect(await approvals.redeem(r)).toBe(false);
      expect(await approvals.sweepRedemptions(T0 + 300_000)).toBe(1);
    });
  });
});
