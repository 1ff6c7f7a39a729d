import { SqliteStore } from "/work/main/src/store/sqlite/store.js";
import { SqliteStatsStore } from "/work/main/src/store/sqlite/stats.js";
const store = new SqliteStore("/tmp/proto/verify.db");
const stats = new SqliteStatsStore(store);
const svc = `VA${"0".repeat(31)}1`;
const page = await stats.listDecisions({ filter: { serviceId: svc }, after: null, limit: 21 });
const last = page[19]!;
console.log(stats.explainList({ serviceId: svc }, { createdAt: last.createdAt, id: last.id }));
console.log(stats.explainList({ serviceId: svc }, null));
for (let i = 0; i < 3; i++) { const t0 = performance.now(); await stats.listDecisions({ filter: { serviceId: svc }, after: { createdAt: last.createdAt, id: last.id }, limit: 21 }); console.log((performance.now() - t0).toFixed(2)); }
const q = store.sqlite.prepare("select * from risk_decisions where service_id = ? and (created_at, id) < (?, ?) order by created_at desc, id desc limit 21");
for (let i = 0; i < 3; i++) { const t0 = performance.now(); q.all(svc, last.createdAt, last.id); console.log("raw", (performance.now() - t0).toFixed(2)); }
const q2 = store.sqlite.prepare("select * from risk_decisions where service_id = ? and (created_at < ? or (created_at = ? and id < ?)) order by created_at desc, id desc limit 21");
console.log(q2.all.length, store.sqlite.prepare("explain query plan select * from risk_decisions where service_id = ? and (created_at < ? or (created_at = ? and id < ?)) order by created_at desc, id desc limit 21").all(svc, 1, 1, "x"));
