import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import { CHECK, createCoreService, freshMobile, ok, queryDb, START, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { TwilioStandin, twilioEnv } from "./helpers/twilio-standin.js";
import { record, wsClient } from "./helpers/ws.js";
import { ADMIN_KEY } from "./helpers/harness.js";

/** One sample of the Prometheus text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (what Prometheus scrapes); comments are skipped. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

const TOKEN = "metrics-token-0123456789abcdef";

/**
 * `GET /metrics` scraped and parsed after known traffic: each count matches what was done; labels
 * never carry a number; access needs METRICS_TOKEN (or a separate port).
 */
describe("GET /metrics after known traffic", () => {
  const standin = new TwilioStandin();
  let s: TestServer;
  let serviceId: string;
  const numbers: string[] = [];
  const scrape = async (token: string | null = TOKEN) => {
    const res = await fetch(`${s.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
  };

  beforeAll(async () => {
    await standin.start();
    s = await startServer({ env: twilioEnv(standin, { METRICS_TOKEN: TOKEN }) });
    serviceId = await createCoreService(s);
    // GB sends draw on the protected share of the budget; Iceland's (MONITOR, new) on the capped one.
    ok(await s.gql(`mutation($s: ID!, $p: [GeoPermissionInput!]!) { setGeoPermissions(serviceId: $s, permissions: $p) { country } }`, { s: serviceId, p: [{ country: "GB", channel: "SMS", permission: "ALLOW" }] }));
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
  });

  it("answers 401 without the token and with a wrong one", async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape("metrics-token-0123456789abcdeX")).status).toBe(401);
  });

  it("counts verifications, checks, risk decisions, deliveries, callbacks and spend exactly", async () => {
    // 3 starts to GB numbers, 1 to Iceland (not in the top list: `other`), 1 refused by the phone stage.
    const gb = [freshMobile(), freshMobile(), freshMobile()];
    const iceland = "+3546111234";
    numbers.push(...gb, iceland);
    const started = [];
    for (const to of gb) started.push(await startVerification(s, { serviceId, to }));
    await s.app.dispatcher.idle();
    standin.fail({ status: 400, code: 21211, message: "Invalid 'To' Phone Number" }); // Iceland's send fails for good
    await startVerification(s, { serviceId, to: iceland });
    const refused = await s.gql(START, { input: { serviceId, to: "+44123", channel: "SMS" } });
    expect(refused.errors?.[0]?.extensions.code).toBe("INVALID_PARAMETER");
    await s.app.dispatcher.idle();

    // Checks: 2 right codes, 1 wrong one.
    const codeOf = (to: string) => /(\d{6})/.exec(standin.created.find((r) => r.to === to)!.body!)![1]!;
    for (const to of gb.slice(0, 2)) ok(await s.gql(CHECK, { input: { serviceId, to, code: codeOf(to) } }));
    const wrong = codeOf(gb[2]!) === "000000" ? "111111" : "000000";
    ok(await s.gql(CHECK, { input: { serviceId, to: gb[2], code: wrong } }));

    // Callbacks: one delivered, one undelivered with Twilio's 30003.
    const resourceOf = (to: string) => standin.created.find((r) => r.to === to)!;
    expect((await standin.statusCallback(s.url, resourceOf(gb[0]!), { MessageStatus: "delivered" })).status).toBe(204);
    expect((await standin.statusCallback(s.url, resourceOf(gb[1]!), { MessageStatus: "undelivered", ErrorCode: "30003" })).status).toBe(204);

    const r = await scrape();
    expect(r.status).toBe(200);
    expect(r.type).toContain("text/plain");
    const m = parse(r.text);
    const svc = { service: serviceId, channel: "SMS" };
    expect(value(m, "verify_guard_verifications_started_total", { ...svc, country: "GB" })).toBe(3);
    expect(value(m, "verify_guard_verifications_started_total", { ...svc, country: "other" })).toBe(1);
    expect(value(m, "verify_guard_verifications_started_total", { country: "IS" })).toBe(0);
    expect(value(m, "verify_guard_verification_sends_total", svc)).toBe(4);
    expect(value(m, "verify_guard_verification_checks_total", { ...svc, country: "GB", result: "approved" })).toBe(2);
    expect(value(m, "verify_guard_verification_checks_total", { ...svc, country: "GB", result: "wrong" })).toBe(1);
    expect(value(m, "verify_guard_verifications_approved_total", { ...svc, country: "GB" })).toBe(2);
    expect(value(m, "verify_guard_verifications_ended_total", { ...svc, country: "other", status: "FAILED" })).toBe(1);
    expect(value(m, "verify_guard_approval_tokens_issued_total", { service: serviceId })).toBe(2);

    // Every start and check wrote one decision row; the metric agrees with the decision log.
    const rows = queryDb<{ kind: string; outcome: string; n: number }>(s, "select kind, outcome, count(*) as n from risk_decisions where service_id = ? group by kind, outcome", serviceId);
    for (const row of rows) expect(value(m, "verify_guard_risk_decisions_total", { kind: row.kind, outcome: row.outcome })).toBe(Number(row.n));
    expect(value(m, "verify_guard_risk_decisions_total", { kind: "START", outcome: "BLOCKED", stage: "phone", code: "INVALID_PARAMETER" })).toBe(1);
    expect(value(m, "verify_guard_risk_decisions_total", { kind: "START", outcome: "ALLOWED" })).toBe(4);
    expect(value(m, "verify_guard_risk_decisions_total", { kind: "CHECK", outcome: "ALLOWED" })).toBe(3);

    expect(value(m, "verify_guard_delivery_attempts_total", { channel: "SMS", outcome: "sent", error_code: "none" })).toBe(3);
    expect(value(m, "verify_guard_delivery_attempts_total", { channel: "SMS", outcome: "failed", error_code: "21211" })).toBe(1);
    expect(value(m, "verify_guard_delivery_callbacks_total", { channel: "SMS", status: "delivered" })).toBe(1);
    expect(value(m, "verify_guard_delivery_callbacks_total", { channel: "SMS", status: "undelivered", error_code: "30003" })).toBe(1);

    // Spend: the metric is what the budget ledger holds, per share.
    const [spend] = queryDb<{ micros: number; capped: number }>(s, "select sum(usd_micros) as micros, sum(capped_usd_micros) as capped from spend_daily where service_id = ?", serviceId);
    const [total, capped] = [Number(spend!.micros), Number(spend!.capped)];
    expect(capped).toBeGreaterThan(0); // Iceland's send
    expect(total - capped).toBeGreaterThan(0); // the GB sends
    expect(value(m, "verify_guard_spend_usd_total", { service: serviceId, share: "capped" })).toBeCloseTo(capped / 1e6, 6);
    expect(value(m, "verify_guard_spend_usd_total", { service: serviceId, share: "protected" })).toBeCloseTo((total - capped) / 1e6, 6);

    // Latency histograms of the store and the limiter, and process metrics.
    // One transaction per start (store.commitStart): the verification, its send, the decision, the
    // counts, the limits and the spend; limiter calls of their own only with REDIS_URL (none here).
    expect(value(m, "verify_guard_store_duration_seconds_count", { store: "verifications", op: "commitStart" })).toBe(4);
    expect(value(m, "verify_guard_limiter_duration_seconds_count", { op: "consume" })).toBe(s.app.config.REDIS_URL ? 11 : 0);
    expect(value(m, "verify_guard_http_request_duration_seconds_count", { route: "/graphql", method: "POST" })).toBeGreaterThan(0);
    expect(m.some((x) => x.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(m.some((x) => x.name === "process_cpu_user_seconds_total")).toBe(true);

    // No number, in any form, anywhere in the exposition.
    for (const n of numbers) {
      expect(r.text).not.toContain(n);
      expect(r.text).not.toContain(n.slice(1));
    }
  });

  it("backs every query of the example Grafana dashboard with a metric the server exposes", async () => {
    const dashboard = readFileSync(new URL("../docs/grafana-dashboard.json", import.meta.url), "utf8");
    const exprs = (JSON.parse(dashboard) as { panels: { targets: { expr: string }[] }[] }).panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:verify_guard|nodejs)_[a-z0-9_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!)));
    // Declared metrics (# TYPE lines), whether or not a labelled one has a sample yet.
    const exposed = new Set([...(await scrape()).text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThan(8);
  });

  it("gauges open subscriptions", async () => {
    const gauge = async () => value(parse((await scrape()).text), "verify_guard_open_subscriptions");
    const base = await gauge();
    const c = wsClient(s, ADMIN_KEY);
    const rec = record(c, `subscription($s: ID!) { verificationEvents(serviceId: $s) { type } }`, { s: serviceId });
    await rec.waitFor(1);
    expect(await gauge()).toBe(base + 1);
    rec.unsubscribe();
    await rec.ended;
    await c.dispose();
    await expect.poll(gauge).toBe(base);
  });
});

describe("/metrics access", () => {
  it("is served on METRICS_PORT alone when set (the main port has none)", async () => {
    const s = await startServer({ env: { METRICS_PORT: "0", METRICS_HOST: "127.0.0.1" } });
    try {
      const port = (s.app.metricsServer!.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("verify_guard_verifications_started_total");
      expect((await fetch(`${s.url}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it("is off in production without a token or a port", async () => {
    const s = await startServer({ env: { NODE_ENV: "production" } });
    try {
      expect((await fetch(`${s.url}/metrics`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});
