import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsentRecordRow, ConsentStore } from "../src/store/consent.js";
import { storeBackends, type OpenedBackend } from "./helpers/store-backends.js";
import { T0 } from "./helpers/store-fixtures.js";

let seq = 0;
const record = (over: Partial<ConsentRecordRow> = {}): ConsentRecordRow => ({
  id: `CR${(++seq).toString(16).padStart(32, "0")}`,
  serviceId: "VA" + "1".repeat(32),
  verificationId: null,
  to: "+447400000001",
  textVersion: "v1",
  agreedAt: T0 - 1000,
  userAgent: "Mozilla/5.0",
  ip: "203.0.113.7",
  createdAt: T0,
  ...over,
});

/** Consent evidence (store/consent.ts): same answers on SQLite and PostgreSQL. */
describe.each(storeBackends())("Consent store contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "on a fresh database", () => {
    let b: OpenedBackend;
    let consent: ConsentStore;
    beforeAll(async () => {
      b = await backend.open();
      consent = b.db.consent;
    });
    afterAll(async () => b?.close());

    it("keeps every field of a record as written, times beyond 2^31 included", async () => {
      const r = record({ to: "+447400000900", userAgent: null, ip: null });
      const linked = record({ to: "+447400000900", verificationId: "VE" + "a".repeat(32), createdAt: T0 + 1 });
      await consent.insertConsent(r);
      await consent.insertConsent(linked);
      expect(await consent.listConsent({ to: r.to }, 10)).toEqual([r, linked]);
    });

    it("filters by number, service and recorded time ([from, until)), oldest first, and pages by keyset", async () => {
      const to = "+447400000777";
      const other = "VA" + "2".repeat(32);
      const rows = [record({ to, createdAt: T0 + 10 }), record({ to, createdAt: T0 + 20 }), record({ to, createdAt: T0 + 20 }), record({ to, createdAt: T0 + 30, serviceId: other }), record({ to: "+447400000778", createdAt: T0 + 20 })];
      for (const r of [...rows].reverse()) await consent.insertConsent(r);
      expect((await consent.listConsent({ to }, 10)).map((r) => r.id)).toEqual(rows.slice(0, 4).map((r) => r.id));
      expect((await consent.listConsent({ to, serviceId: other }, 10)).map((r) => r.id)).toEqual([rows[3]!.id]);
      expect((await consent.listConsent({ to, from: T0 + 20, until: T0 + 30 }, 10)).map((r) => r.id)).toEqual([rows[1]!.id, rows[2]!.id]);
      const page1 = await consent.listConsent({ to }, 2);
      const page2 = await consent.listConsent({ to }, 2, page1.at(-1)!);
      expect([...page1, ...page2].map((r) => r.id)).toEqual(rows.slice(0, 4).map((r) => r.id));
      expect(await consent.listConsent({ to }, 2, page2.at(-1)!)).toEqual([]);
    });

    it("deletes records recorded before a cutoff, oldest first and at most `limit` at a time", async () => {
      const to = "+447400000555";
      for (const t of [T0 - 3000, T0 - 2000, T0 - 1000, T0 + 5000]) await consent.insertConsent(record({ to, createdAt: t }));
      const cutoff = T0 - 500;
      const before = (await consent.listConsent({}, 1000)).filter((r) => r.createdAt < cutoff).length;
      expect(await consent.deleteConsentBefore(cutoff, 2)).toBe(2);
      expect((await consent.listConsent({ to }, 10)).map((r) => r.createdAt)).toEqual([T0 - 1000, T0 + 5000]);
      expect(await consent.deleteConsentBefore(cutoff, 1000)).toBe(before - 2);
      expect((await consent.listConsent({}, 1000)).every((r) => r.createdAt >= cutoff)).toBe(true);
    });
  });
});
