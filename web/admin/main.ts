import "./admin.css";
import type { Client } from "graphql-ws";
import { describeSocketError, gql, liveClient, type GqlResult } from "../shared/api";
import { bars, columns, type Bucket } from "./charts";

/**
 * The admin dashboard: the existing admin queries drawn as charts, the top blocked prefixes with the
 * blocks to lift, and a live feed from `verificationEvents`. Reads the key from the form (kept in this
 * tab's sessionStorage only).
 */
const KEY_STORAGE = "vg-admin-key";
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const SENDS = { name: "sends", color: "#2563eb" };
const BLOCKS = { name: "blocked", color: "#dc2626" };

interface Row {
  hour?: string | null;
  day?: string | null;
  country?: string | null;
  stage?: string | null;
  prefix?: string | null;
  sends: number;
  blocked: number;
  converted: number;
  conversionRatePercentage: number | null;
  savedUsd: number;
  preventedSends: number;
}
interface Block {
  prefix: string;
  serviceId: string | null;
  source: string;
  reason: string;
}
interface Event {
  type: string;
  serviceId: string;
  verificationId: string | null;
  status: string | null;
  country: string | null;
  stage: string | null;
  errorCode: number | null;
  at: string;
}

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const keyForm = $<HTMLFormElement>("#key-form");
const keyInput = $<HTMLInputElement>("#admin-key");
const toolbar = $<HTMLElement>("#toolbar");
const serviceSelect = $<HTMLSelectElement>("#service");
const dashboard = $<HTMLElement>("#dashboard");
const error = $<HTMLElement>("#error");
const feed = $<HTMLOListElement>("#feed");
const feedState = $<HTMLElement>("#feed-state");

let key = sessionStorage.getItem(KEY_STORAGE) ?? "";
let live: { client: Client; stops: (() => void)[] } | null = null;
let refreshTimer: number | undefined;

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const num = new Intl.NumberFormat("en-US");

function fail(message: string): void {
  error.textContent = message;
}

/** A query with the admin key; errors reach the page as one sentence. */
async function ask<T>(query: string, variables: Record<string, unknown> = {}): Promise<T | null> {
  const r: GqlResult<T> = await gql<T>(query, variables, key);
  if (r.errors?.length) {
    const e = r.errors[0]!;
    fail(e.extensions?.code === "UNAUTHENTICATED" || e.extensions?.code === "FORBIDDEN" ? "That key is not an admin key of this server." : e.message);
    return null;
  }
  return r.data ?? null;
}

async function connect(): Promise<void> {
  fail("");
  const d = await ask<{ services: { id: string; friendlyName: string }[] }>(`{ services { id friendlyName } }`);
  if (!d) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  serviceSelect.replaceChildren(new Option("All services", ""), ...d.services.map((s) => new Option(`${s.friendlyName} (${s.id.slice(0, 8)}…)`, s.id)));
  keyForm.hidden = true;
  toolbar.hidden = false;
  dashboard.hidden = false;
  await refresh();
  follow(d.services.map((s) => s.id));
}

const selected = () => serviceSelect.value || null;

/** Floor to the hour / UTC day, as the roll-ups count. */
const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;

async function refresh(): Promise<void> {
  const serviceId = selected();
  const now = Date.now();
  const until = floorTo(now, HOUR) + HOUR;
  const hourFrom = until - 48 * HOUR;
  const dayUntil = floorTo(now, DAY) + DAY;
  const dayFrom = dayUntil - 30 * DAY;
  const range = { serviceId, from: new Date(dayFrom).toISOString(), until: new Date(dayUntil).toISOString() };
  // Two requests, each within the query cost limit (a report costs 1000, a top list 500).
  const [overview, series, blocks] = await Promise.all([
    ask<{ fraudStats: { totals: Row; rows: Row[]; topBlockedPrefixes: Row[] } }>(
      `query($serviceId: ID, $from: DateTimeISO!, $until: DateTimeISO!) { fraudStats(serviceId: $serviceId, from: $from, until: $until, groupBy: [COUNTRY]) {
        totals { sends blocked converted conversionRatePercentage savedUsd preventedSends }
        rows(limit: 50) { country sends blocked converted conversionRatePercentage savedUsd preventedSends }
        topBlockedPrefixes(limit: 10) { prefix country blocked savedUsd preventedSends } } }`,
      range,
    ),
    ask<{ byHour: { rows: Row[] }; byDay: { rows: Row[] }; byStage: { rows: Row[] } }>(
      `query($serviceId: ID, $hourFrom: DateTimeISO!, $from: DateTimeISO!, $until: DateTimeISO!, $hourUntil: DateTimeISO!) {
        byHour: fraudStats(serviceId: $serviceId, from: $hourFrom, until: $hourUntil, groupBy: [HOUR]) { rows(limit: 48) { hour sends blocked } }
        byDay: fraudStats(serviceId: $serviceId, from: $from, until: $until, groupBy: [DAY]) { rows(limit: 30) { day sends blocked } }
        byStage: fraudStats(serviceId: $serviceId, from: $from, until: $until, groupBy: [STAGE]) { rows(limit: 20) { stage blocked } } }`,
      { ...range, hourFrom: new Date(hourFrom).toISOString(), hourUntil: new Date(until).toISOString() },
    ),
    ask<{ blockedPrefixes: Block[] }>(`query($serviceId: ID) { blockedPrefixes(serviceId: $serviceId) { prefix serviceId source reason } }`, { serviceId }),
  ]);
  if (!overview || !series || !blocks) return;
  const s = overview.fraudStats;
  $("#t-sends").textContent = num.format(s.totals.sends);
  $("#t-blocked").textContent = num.format(s.totals.blocked);
  $("#t-conversion").textContent = s.totals.conversionRatePercentage === null ? "–" : `${s.totals.conversionRatePercentage.toFixed(1)} %`;
  $("#t-saved").textContent = usd.format(s.totals.savedUsd);
  $("#t-saved").title = `${num.format(s.totals.preventedSends)} sends prevented`;

  columns($("#c-hour"), timeline(series.byHour.rows, "hour", hourFrom, 48, HOUR, (t) => `${String(new Date(t).getUTCHours()).padStart(2, "0")}h`), [SENDS, BLOCKS], {
    labelEvery: 6,
    summary: `Sends and blocks per hour over the last 48 hours: ${sum(series.byHour.rows, "sends")} sends, ${sum(series.byHour.rows, "blocked")} blocked`,
  });
  columns($("#c-day"), timeline(series.byDay.rows, "day", dayFrom, 30, DAY, (t) => new Date(t).toISOString().slice(5, 10)), [SENDS, BLOCKS], {
    labelEvery: 5,
    summary: `Sends and blocks per day over the last 30 days: ${sum(series.byDay.rows, "sends")} sends, ${sum(series.byDay.rows, "blocked")} blocked`,
  });
  const byCountry = s.rows.filter((r) => r.blocked > 0).sort((a, b) => b.blocked - a.blocked).slice(0, 10);
  bars($("#c-country"), byCountry.map((r) => ({ label: r.country ?? "unknown", value: r.blocked })), BLOCKS.color, { summary: "Blocks by country", empty: "No blocks in the last 30 days." });
  const byStage = series.byStage.rows.filter((r) => r.stage && r.blocked > 0).sort((a, b) => b.blocked - a.blocked);
  bars($("#c-stage"), byStage.map((r) => ({ label: r.stage!, value: r.blocked })), BLOCKS.color, { summary: "Blocks by risk stage", empty: "No blocks in the last 30 days." });
  const conversion = s.rows.filter((r) => r.sends > 0).sort((a, b) => b.sends - a.sends).slice(0, 10);
  bars(
    $("#c-conversion"),
    conversion.map((r) => ({ label: r.country ?? "unknown", value: r.conversionRatePercentage ?? 0, text: `${(r.conversionRatePercentage ?? 0).toFixed(0)} % of ${num.format(r.sends)}` })),
    "#059669",
    { max: 100, summary: "Conversion (approved ÷ sent) by country", empty: "Nothing sent in the last 30 days." },
  );
  prefixTable(s.topBlockedPrefixes, blocks.blockedPrefixes);
}

function sum(rows: Row[], field: "sends" | "blocked"): number {
  return rows.reduce((n, r) => n + r[field], 0);
}

/** Every bucket of the range, empty ones included (the API returns only groups that have rows). */
function timeline(rows: Row[], field: "hour" | "day", from: number, count: number, unit: number, label: (t: number) => string): Bucket[] {
  const at = new Map(rows.map((r) => [Date.parse(r[field]!), r]));
  return Array.from({ length: count }, (_, i) => {
    const t = from + i * unit;
    const r = at.get(t);
    return { label: label(t), values: [r?.sends ?? 0, r?.blocked ?? 0] };
  });
}

/** The top blocked prefixes, and every active block with a button that lifts it. */
function prefixTable(top: Row[], blocks: Block[]): void {
  const body = $<HTMLTableSectionElement>("#prefixes tbody");
  const covering = (prefix: string) => blocks.filter((b) => prefix.startsWith(b.prefix));
  const rows: HTMLTableRowElement[] = [];
  const shown = new Set<Block>();
  for (const r of top) {
    const cover = covering(r.prefix!);
    cover.forEach((b) => shown.add(b));
    rows.push(row(r.prefix!, r.country ?? "", num.format(r.blocked), usd.format(r.savedUsd), cover));
  }
  for (const b of blocks) if (!shown.has(b)) rows.push(row(b.prefix, "", "–", "–", [b]));
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 5;
    td.className = "hint";
    td.textContent = "No blocked prefixes.";
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function row(prefix: string, country: string, blocked: string, saved: string, blocks: Block[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.dataset.prefix = prefix;
  for (const text of [prefix, country, blocked, saved]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  const td = document.createElement("td");
  if (blocks.length === 0) {
    td.textContent = "not blocked";
    td.className = "hint";
  }
  for (const b of blocks) {
    const button = document.createElement("button");
    button.type = "button";
    button.name = "unblock";
    button.className = "small";
    button.textContent = `Unblock ${b.prefix}`;
    button.title = `${b.source}: ${b.reason}`;
    button.addEventListener("click", async () => {
      button.disabled = true;
      const d = await ask<{ unblockPrefix: boolean }>(`mutation($prefix: String!, $serviceId: ID) { unblockPrefix(prefix: $prefix, serviceId: $serviceId) }`, { prefix: b.prefix, serviceId: b.serviceId });
      if (d) await refresh();
      else button.disabled = false;
    });
    td.append(button);
  }
  tr.append(td);
  return tr;
}

/** The live feed: verificationEvents of the chosen service (or of each service, up to 20). */
function follow(allServiceIds: string[]): void {
  live?.stops.forEach((stop) => stop());
  void live?.client.dispose();
  const ids = selected() ? [selected()!] : allServiceIds.slice(0, 20);
  const client = liveClient({ authorization: `Bearer ${key}` }, (s) => (feedState.textContent = s === "connected" ? "Live." : "Reconnecting…"));
  live = { client, stops: [] };
  if (ids.length === 0) feedState.textContent = "No services yet.";
  for (const serviceId of ids) {
    live.stops.push(
      client.subscribe<{ verificationEvents: Event }>(
        { query: `subscription($serviceId: ID!) { verificationEvents(serviceId: $serviceId) { type serviceId verificationId status country stage errorCode at } }`, variables: { serviceId } },
        {
          next: ({ data, errors }) => {
            if (errors?.length) return fail(errors[0]!.message);
            if (data) addEvent(data.verificationEvents);
          },
          error: (e) => fail(describeSocketError(e)),
          complete: () => undefined,
        },
      ),
    );
  }
}

function addEvent(e: Event): void {
  if (e.type === "SUBSCRIBED") return;
  const li = document.createElement("li");
  li.className = e.type;
  const detail = e.type === "RISK_BLOCKED" ? `${e.stage} ${e.errorCode}` : (e.status ?? "");
  li.textContent = `${e.at.slice(11, 19)}  ${e.type.padEnd(16)} ${detail}  ${e.country ?? ""}  ${e.verificationId ?? ""}`;
  feed.prepend(li);
  while (feed.children.length > 50) feed.lastElementChild!.remove();
  // Charts follow the feed, at most every few seconds.
  if (refreshTimer === undefined) refreshTimer = window.setTimeout(() => ((refreshTimer = undefined), void refresh()), 3000);
}

keyForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  key = keyInput.value.trim();
  void connect();
});
serviceSelect.addEventListener("change", () => {
  void refresh();
  follow(Array.from(serviceSelect.options, (o) => o.value).filter(Boolean));
});
$<HTMLButtonElement>('button[name="refresh"]').addEventListener("click", () => void refresh());
$<HTMLButtonElement>('button[name="forget"]').addEventListener("click", () => {
  sessionStorage.removeItem(KEY_STORAGE);
  location.reload();
});
if (key) void connect();
