import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlockedPrefixRow, FraudStore } from "../src/store/fraud.js";
import type { Store } from "../src/store/types.js";
import { storeBackends, type OpenedBackend } from "./helpers/store-backends.js";
import { T0, serviceRow } from "./helpers/store-fixtures.js";

const block = (over: Partial<BlockedPrefixRow> & Pick<BlockedPrefixRow, "prefix">): BlockedPrefixRow => ({
  serviceId: null,
  country: null,
  source: "MANUAL",
  reason: "test",
  level: null,
  rule: null,
  figures: null,
  createdAt: T0,
  updatedAt: T0,
  expiresAt: null,
  ...over,
});

/** The fraud stages' store (store/fraud.ts): same answers on SQLite and PostgreSQL. */
describe.each(storeBackends())("Fraud store contract on $name", (backend) => {
  describe.skipIf(backend.skipReason !== null)(backend.skipReason ? `not run: ${backend.skipReason}` : "on a fresh database", () => {
    let b: OpenedBackend;
    let fraud: FraudStore;
    let store: Store;
    beforeAll(async () => {
      b = await backend.open();
      ({ fraud, store } = b.db);
    });
    afterAll(async () => b?.close());
    const newService = async () => {
      const s = serviceRow();
      await store.insertService(s);
      return s.id;
    };

    it("adds a safe number once, replaces its note, lists and removes it", async () => {
      expect(await fraud.addSafeNumber({ number: "+447400000001", note: "ops", createdAt: T0 })).toEqual({ number: "+447400000001", note: "ops", createdAt: T0 });
      expect(await fraud.addSafeNumber({ number: "+447400000001", note: "vip", createdAt: T0 + 9 })).toEqual({ number: "+447400000001", note: "vip", createdAt: T0 });
      await fraud.addSafeNumber({ number: "+447400000002", note: null, createdAt: T0 + 1 });
      expect(await fraud.isSafeNumber("+447400000001")).toBe(true);
      expect((await fraud.listSafeNumbers()).map((r) => r.number)).toEqual(["+447400000001", "+447400000002"]);
      expect(await fraud.removeSafeNumber("+447400000001")).toBe(true);
      expect(await fraud.removeSafeNumber("+447400000001")).toBe(false);
      expect(await fraud.isSafeNumber("+447400000001")).toBe(false);
    });

    it("sets geo permissions all together, reads them back sorted, and resets some or all", async () => {
      const sid = await newService();
      await fraud.setGeoPermissions([
        { serviceId: sid, country: "NG", channel: "SMS", permission: "BLOCK", updatedAt: T0 },
        { serviceId: sid, country: "001", channel: "CALL", permission: "ALLOW", updatedAt: T0 },
        { serviceId: sid, country: "GB", channel: "SMS", permission: "ALLOW", updatedAt: T0 },
      ]);
      await fraud.setGeoPermissions([{ serviceId: sid, country: "GB", channel: "SMS", permission: "MONITOR", updatedAt: T0 + 1 }]);
      expect(await fraud.getGeoPermission(sid, "GB", "SMS")).toBe("MONITOR");
      expect(await fraud.getGeoPermission(sid, "GB", "CALL")).toBeNull();
      expect((await fraud.listGeoPermissions(sid)).map((r) => `${r.country}/${r.channel}`)).toEqual(["001/CALL", "GB/SMS", "NG/SMS"]);
      expect(await fraud.resetGeoPermissions(sid, ["NG", "FR"])).toBe(1);
      expect(await fraud.resetGeoPermissions(sid, [])).toBe(0);
      expect(await fraud.resetGeoPermissions(sid)).toBe(2);
      expect(await fraud.listGeoPermissions(sid)).toEqual([]);
    });

    it("refuses a geo batch as a whole when one row is bad", async () => {
      const sid = await newService();
      const batch = [
        { serviceId: sid, country: "GB", channel: "SMS" as const, permission: "ALLOW" as const, updatedAt: T0 },
        { serviceId: "VA" + "f".repeat(32), country: "GB", channel: "SMS" as const, permission: "ALLOW" as const, updatedAt: T0 },
      ];
      await expect(fraud.setGeoPermissions(batch)).rejects.toThrow();
      expect(await fraud.listGeoPermissions(sid)).toEqual([]);
    });

    it("finds the block that applies: the service's before a global one, MANUAL before AUTO, live ones only", async () => {
      const sid = await newService();
      await fraud.putManualPrefixBlock(block({ prefix: "+2217" }));
      await fraud.putManualPrefixBlock(block({ prefix: "+22177", serviceId: sid, reason: "own" }));
      await fraud.putAutoPrefixBlock(block({ prefix: "+2217", serviceId: sid, source: "AUTO", reason: "auto", expiresAt: T0 + 1000 }));
      const candidates = ["+2", "+22", "+221", "+2217", "+22177", "+221771"];
      expect(await fraud.findPrefixBlock(sid, candidates, "SN", T0)).toMatchObject({ serviceId: sid, source: "MANUAL", prefix: "+22177" });
      await fraud.removePrefixBlock(sid, "+22177");
      expect(await fraud.findPrefixBlock(sid, candidates, "SN", T0)).toMatchObject({ serviceId: null, source: "MANUAL", prefix: "+2217" });
      await fraud.removePrefixBlock(null, "+2217");
      expect(await fraud.findPrefixBlock(sid, candidates, "SN", T0)).toMatchObject({ serviceId: sid, source: "AUTO" });
      expect(await fraud.findPrefixBlock(sid, candidates, "SN", T0 + 1000)).toBeNull();
      expect(await fraud.findPrefixBlock(sid, [], "SN", T0)).toBeNull();
    });

    it("keeps a country's block to that country's numbers (+1 holds the US and Canada), with its evidence", async () => {
      const sid = await newService();
      const figures = { sends: 31, approvals: 0, threshold: 25 };
      const ca = await fraud.putAutoPrefixBlock(
        block({ prefix: "+1", country: "CA", serviceId: sid, source: "AUTO", reason: "country surge", level: "COUNTRY", rule: "country surge", figures, expiresAt: T0 + 1000 }),
      );
      expect(ca).toMatchObject({ prefix: "+1", country: "CA", level: "COUNTRY", rule: "country surge", figures });
      const candidates = ["+1", "+14", "+141", "+1416"];
      expect(await fraud.findPrefixBlock(sid, candidates, "CA", T0)).toMatchObject({ country: "CA", figures });
      expect(await fraud.findPrefixBlock(sid, candidates, "US", T0)).toBeNull();
      // A US block is a row of its own beside Canada's; a plain +1 prefix block covers both.
      await fraud.putAutoPrefixBlock(block({ prefix: "+1", country: "US", serviceId: sid, source: "AUTO", level: "COUNTRY", expiresAt: T0 + 1000 }));
      expect(await fraud.findPrefixBlock(sid, candidates, "US", T0)).toMatchObject({ country: "US" });
      expect((await fraud.listPrefixBlocks(T0, sid)).map((b) => [b.prefix, b.country])).toEqual([["+1", "CA"], ["+1", "US"]]);
      expect(await fraud.removePrefixBlock(sid, "+1", "CA")).toMatchObject({ country: "CA" });
      expect(await fraud.removePrefixBlock(sid, "+1")).toBeNull(); // no block of every +1 number
      expect(await fraud.findPrefixBlock(sid, candidates, "CA", T0)).toBeNull();
      await fraud.putManualPrefixBlock(block({ prefix: "+1", serviceId: sid }));
      expect(await fraud.findPrefixBlock(sid, candidates, "CA", T0)).toMatchObject({ country: null, source: "MANUAL", level: null, figures: null });
    });

    it("lists live blocks for a service (its own and global) or all, sorted by scope and prefix", async () => {
      const [s1, s2] = [await newService(), await newService()];
      await fraud.putManualPrefixBlock(block({ prefix: "+3001" }));
      await fraud.putManualPrefixBlock(block({ prefix: "+3002", serviceId: s1 }));
      await fraud.putManualPrefixBlock(block({ prefix: "+3003", serviceId: s2 }));
      await fraud.putManualPrefixBlock(block({ prefix: "+3000", serviceId: s1, expiresAt: T0 }));
      const forS1 = (await fraud.listPrefixBlocks(T0, s1)).filter((r) => r.prefix.startsWith("+300"));
      expect(forS1.map((r) => [r.serviceId, r.prefix])).toEqual([[null, "+3001"], [s1, "+3002"]]);
      const all = (await fraud.listPrefixBlocks(T0)).filter((r) => r.prefix.startsWith("+300")).map((r) => r.prefix);
      expect(all.sort()).toEqual(["+3001", "+3002", "+3003"]);
    });

    it("never lets the detector replace a live MANUAL block, but renews its own keeping the first detection", async () => {
      const sid = await newService();
      await fraud.putManualPrefixBlock(block({ prefix: "+4001", serviceId: sid, reason: "admin" }));
      expect(await fraud.putAutoPrefixBlock(block({ prefix: "+4001", serviceId: sid, source: "AUTO", updatedAt: T0 + 5, expiresAt: T0 + 99 }))).toBeNull();
      const first = await fraud.putAutoPrefixBlock(block({ prefix: "+4002", serviceId: sid, source: "AUTO", reason: "r1", createdAt: T0, updatedAt: T0, expiresAt: T0 + 100 }));
      expect(first).toMatchObject({ source: "AUTO", createdAt: T0, expiresAt: T0 + 100 });
      const renewed = await fraud.putAutoPrefixBlock(block({ prefix: "+4002", serviceId: sid, source: "AUTO", reason: "r2", createdAt: T0 + 50, updatedAt: T0 + 50, expiresAt: T0 + 200 }));
      expect(renewed).toMatchObject({ reason: "r2", createdAt: T0, updatedAt: T0 + 50, expiresAt: T0 + 200 });
      // An expired MANUAL block is fair game for the detector, which starts a fresh entry.
      await fraud.putManualPrefixBlock(block({ prefix: "+4003", serviceId: sid, expiresAt: T0 + 10 }));
      expect(await fraud.putAutoPrefixBlock(block({ prefix: "+4003", serviceId: sid, source: "AUTO", createdAt: T0 + 20, updatedAt: T0 + 20, expiresAt: T0 + 300 }))).toMatchObject({ source: "AUTO", createdAt: T0 + 20 });
      // An admin's block replaces the detector's.
      expect(await fraud.putManualPrefixBlock(block({ prefix: "+4002", serviceId: sid, reason: "admin wins", updatedAt: T0 + 60 }))).toMatchObject({ source: "MANUAL", reason: "admin wins", expiresAt: null });
      expect(await fraud.removePrefixBlock(sid, "+4002")).toMatchObject({ prefix: "+4002" });
      expect(await fraud.removePrefixBlock(sid, "+4002")).toBeNull();
    });
  });
});
