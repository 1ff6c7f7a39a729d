import { rmSync, mkdirSync } from "node:fs";
import { SqliteStore } from "../../src/store/sqlite/store.js";
import { SqliteStatsStore } from "../../src/store/sqlite/stats.js";
import { seedDecisions } from "./seed.js";
const dir = "/tmp/proto"; const n = Number(process.argv[2] ?? 100000);
const fresh = process.argv[3] !== "reuse";
if (fresh) { rmSync(dir, { recursive: true, force: true }); mkdirSync(dir); }
const store = new SqliteStore(dir + "/verify.db");
const stats = new SqliteStatsStore(store);
const until = Date.UTC(2026, 0, 31, 13, 17);
let s = { serviceIds: Array.from({ length: 5 }, (_, i) => `VA${"0".repeat(31)}${i + 1}`), from: until - 30 * 86400000, until };
if (fresh) { const r = await seedDecisions(store, n, { until }); console.log("seed", Math.round(r.ms), "ms", (r.ms * 1000 / n).toFixed(1), "µs/row"); }
const svc = s.serviceIds[0]!;
const time = async <T>(label: string, f: () => Promise<T>) => { await f(); const t0 = performance.now(); const r = await f(); console.log(label.padEnd(50), (performance.now() - t0).toFixed(1).padStart(7), "ms"); return r; };
const from = s.from + 7 * 3600000 + 123456; const to = s.until - 5 * 3600000 - 999;
for (const groupBy of [[], ["COUNTRY"], ["PREFIX"], ["STAGE", "ERROR_CODE"], ["HOUR"], ["DAY", "CHANNEL"]] as const) {
  for (const serviceId of [svc, null]) {
    const r = await time(`aggregate ${groupBy.join("+") || "total"} ${serviceId ? "svc0" : "all"}`, () => stats.aggregate({ serviceId, from, until: to, groupBy: [...groupBy] }));
    if (groupBy.length === 0) console.log("   ", JSON.stringify(r[0]));
  }
}
await time("aggregate PREFIX blockedOnly svc0", () => stats.aggregate({ serviceId: svc, from, until: to, groupBy: ["PREFIX"], blockedOnly: true }));
await time("aggregate COUNTRY blockedOnly svc0", () => stats.aggregate({ serviceId: svc, from, until: to, groupBy: ["COUNTRY"], blockedOnly: true }));
await time("summary svc0 country US", () => stats.aggregate({ serviceId: svc, from, until: to, groupBy: [], country: "US" }));
// raw check of the total
const raw = store.sqlite.prepare(`select count(*) decisions, sum(outcome='ALLOWED') allowed, sum(kind='START' and outcome='ALLOWED') sends, sum(kind='START' and outcome='BLOCKED' and coalesce(error_code,0)<>60200) prevented, sum(converted) converted, sum(kind='CHECK') checks from risk_decisions where service_id = ? and created_at >= ? and created_at < ?`).get(svc, from, to);
console.log("raw", JSON.stringify(raw));
const page = await time("list svc0 first 20", () => stats.listDecisions({ filter: { serviceId: svc }, after: null, limit: 21 }));
const last = page[19]!;
await time("list svc0 page 2", () => stats.listDecisions({ filter: { serviceId: svc }, after: { createdAt: last.createdAt, id: last.id }, limit: 21 }));
await time("list svc0 blocked UZ", () => stats.listDecisions({ filter: { serviceId: svc, country: "UZ", outcome: "BLOCKED" }, after: null, limit: 21 }));
await time("list all errorCode 60605", () => stats.listDecisions({ filter: { errorCode: 60605 }, after: null, limit: 21 }));
await time("list svc0 stage geo", () => stats.listDecisions({ filter: { serviceId: svc, stage: "geo" }, after: null, limit: 21 }));
await time("list by to", () => stats.listDecisions({ filter: { to: last.to }, after: null, limit: 21 }));
console.log(stats.explainAggregate({ serviceId: svc, from, until: to, groupBy: ["COUNTRY"] }));
console.log(stats.explainAggregate({ serviceId: null, from, until: to, groupBy: ["PREFIX"], blockedOnly: true }));
console.log(stats.explainList({ serviceId: svc, stage: "geo" }, { createdAt: last.createdAt, id: last.id }));
console.log(stats.explainList({ errorCode: 60605 }, null));
console.log(stats.explainList({ serviceId: svc, country: "US", outcome: "BLOCKED" }, null));
