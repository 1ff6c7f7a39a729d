import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LimitsStore } from "../src/store/limits.js";
import { storeBackends, type OpenedBackend } from "./helpers/store-backends.js";
import { T0 } from "./helpers/store-fixtures.js";

/** Prices and the daily spend ledger (store/limits.ts): same answers on SQLite and PostgreSQL. */
describe.each(storeBackends())("Limits store contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "on a fresh database", () => {
    let b: OpenedBackend;
    let limits: LimitsStore;
    let other: LimitsStore;
    beforeAll(async () => {
      b = await backend.open();
      limits = b.db.limits;
      other = (await b.another()).limits;
    });
    afterAll(async () => b?.close());

    it("upserts, lists, reads and deletes price overrides", async () => {
      await limits.upsertPriceOverride({ country: "GB", channel: "SMS", usdMicros: 40_000, updatedAt: T0 });
      await limits.upsertPriceOverride({ country: "*", channel: "CALL", usdMicros: 120_000, updatedAt: T0 });
      await limits.upsertPriceOverride({ country: "GB", channel: "SMS", usdMicros: 45_000, updatedAt: T0 + 1 });
      expect(await limits.getPriceOverride("GB", "SMS")).toEqual({ country: "GB", channel: "SMS", usdMicros: 45_000, updatedAt: T0 + 1 });
      expect((await limits.listPriceOverrides()).map((r) => `${r.country}/${r.channel}`)).toEqual(["*/CALL", "GB/SMS"]);
      expect(await limits.deletePriceOverride("GB", "SMS")).toBe(true);
      expect(await limits.deletePriceOverride("GB", "SMS")).toBe(false);
      expect(await limits.getPriceOverride("GB", "SMS")).toBeNull();
    });

    it("reserves spend while it fits the budget and refuses, without charging, what would pass it", async () => {
      const day = { serviceId: "VA-spend-1", day: "2026-01-01" };
      const none = { cappedUsdMicros: 0, cappedSends: 0 };
      expect(await limits.getSpend(day.serviceId, day.day)).toEqual({ ...day, usdMicros: 0, sends: 0, ...none });
      expect(await limits.reserveSpend({ ...day, usdMicros: 60, budgetMicros: 100, now: T0 })).toEqual({ reserved: true, spentMicros: 60, cappedMicros: 0, refusedBy: null });
      expect(await limits.reserveSpend({ ...day, usdMicros: 50, budgetMicros: 100, now: T0 })).toEqual({ reserved: false, spentMicros: 60, cappedMicros: 0, refusedBy: "BUDGET" });
      expect(await limits.reserveSpend({ ...day, usdMicros: 40, budgetMicros: 100, now: T0 })).toEqual({ reserved: true, spentMicros: 100, cappedMicros: 0, refusedBy: null });
      expect(await limits.reserveSpend({ ...day, serviceId: "VA-spend-2", usdMicros: 101, budgetMicros: 100, now: T0 })).toEqual({ reserved: false, spentMicros: 0, cappedMicros: 0, refusedBy: "BUDGET" });
      expect(await limits.getSpend(day.serviceId, day.day)).toEqual({ ...day, usdMicros: 100, sends: 2, ...none });
    });

    it("keeps the capped share's sends within its cap and the budget, and says which refused", async () => {
      const day = { serviceId: "VA-spend-cap", day: "2026-01-01" };
      const capped = { ...day, budgetMicros: 100, capMicros: 30, now: T0 };
      expect(await limits.reserveSpend({ ...capped, usdMicros: 20 })).toEqual({ reserved: true, spentMicros: 20, cappedMicros: 20, refusedBy: null });
      expect(await limits.reserveSpend({ ...capped, usdMicros: 20 })).toEqual({ reserved: false, spentMicros: 20, cappedMicros: 20, refusedBy: "CAPPED_SHARE" });
      expect(await limits.reserveSpend({ ...capped, usdMicros: 10 })).toMatchObject({ reserved: true, cappedMicros: 30 });
      // Protected sends use the rest of the budget, whatever the capped share spent.
      expect(await limits.reserveSpend({ ...day, usdMicros: 70, budgetMicros: 100, now: T0 })).toEqual({ reserved: true, spentMicros: 100, cappedMicros: 30, refusedBy: null });
      expect(await limits.reserveSpend({ ...capped, capMicros: 1000, usdMicros: 1 })).toMatchObject({ reserved: false, refusedBy: "BUDGET" });
      // A first send dearer than the whole cap is refused before any write.
      expect(await limits.reserveSpend({ ...capped, serviceId: "VA-spend-cap2", usdMicros: 31 })).toEqual({ reserved: false, spentMicros: 0, cappedMicros: 0, refusedBy: "CAPPED_SHARE" });
      expect(await limits.getSpend(day.serviceId, day.day)).toEqual({ ...day, usdMicros: 100, sends: 3, cappedUsdMicros: 30, cappedSends: 2 });
      await limits.addSpend({ ...day, usdMicros: 5, capped: true, now: T0 });
      expect(await limits.listSpend(day.serviceId, "2025-12-31", "2026-01-01")).toEqual([{ ...day, usdMicros: 105, sends: 4, cappedUsdMicros: 35, cappedSends: 3 }]);
      expect(await limits.listSpend(day.serviceId, "2026-01-02", "2026-01-05")).toEqual([]);
    });

    it("never lets concurrent reservations from two instances overshoot the budget together", async () => {
      const day = { serviceId: "VA-spend-race", day: "2026-01-01" };
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? other : limits).reserveSpend({ ...day, usdMicros: 10, budgetMicros: 95, now: T0 })));
      expect(results.filter((r) => r.reserved)).toHaveLength(9);
      expect(await limits.getSpend(day.serviceId, day.day)).toMatchObject({ usdMicros: 90, sends: 9 });
    });

    it("adds spend unconditionally, beyond any budget, and keeps amounts past 2^31 micro-dollars", async () => {
      const day = { serviceId: "VA-spend-add", day: "2026-01-02" };
      await limits.addSpend({ ...day, usdMicros: 2_000_000_000, now: T0 });
      await limits.addSpend({ ...day, usdMicros: 2_000_000_000, now: T0 });
      expect(await limits.getSpend(day.serviceId, day.day)).toEqual({ ...day, usdMicros: 4_000_000_000, sends: 2, cappedUsdMicros: 0, cappedSends: 0 });
    });
  });
});
