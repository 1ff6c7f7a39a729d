import { createClient, type Client } from "graphql-ws";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { benchServerEnv, SERVER_MAIN } from "./http-ops.js";
import { BENCH_ADMIN_KEY, gql } from "./lib/gql.js";
import { PhoneSource } from "./lib/phones.js";
import { spawnServer } from "./lib/process.js";
import type { BenchSettings } from "./lib/settings.js";
import { percentile } from "./lib/table.js";


export interface FanoutRound {
  /** From sending the status-changing mutation to the first / median / last subscriber's delivery. */
  firstMs: number;
  p50Ms: number;
  lastMs: number;
  delivered: number;
}

export interface FanoutResults {
  subscribers: number;
  subscription: string;
  rounds: FanoutRound[];
  /** Median over rounds of the time to the last delivery (the headline), and the worst round. */
  lastMsMedian: number;
  lastMsMax: number;
  /** Deliveries per second during a round (subscribers / time to last). */
  deliveriesPerSecond: number;
  /** Server RSS with every subscriber connected, and before they connected. */
  peakRssBytes: number;
  idleRssBytes: number;
}

const SUBSCRIPTION = `subscription($id: ID!) { verificationUpdated(verificationId: $id) { type status at } }`;
const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { id } }`;
const CHECK = `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { valid } }`;

/** Resolves when `pending` reaches zero, or rejects after `ms` naming what was still missing. */
function countdown(n: number, ms: number, what: string): { hit(): void; done: Promise<void> } {
  let left = n;
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`${what}: ${left} of ${n} still missing after ${ms} ms`)), ms);
  if (n === 0) resolve();
  return {
    hit() {
      if (--left === 0) {
        clearTimeout(timer);
        resolve();
      }
    },
    done,
  };
}

/**
 * Subscription fan-out: N graphql-ws clients (one WebSocket each, from this process) subscribe to
 * one verification's updates; once every one has its SUBSCRIBED acknowledgement, the bench changes
 * the status (a right code approves it) and times the delivery of APPROVED to every subscriber, from
 * the moment the check mutation is sent. Each round uses a fresh verification.
 */
export async function runFanout(s: BenchSettings, log: (line: string) => void): Promise<FanoutResults> {
  const dir = mkdtempSync(join(tmpdir(), "vg-bench-fanout-"));
  // One key and one address hold every subscriber here: lift the per-key and per-address WebSocket limits.
  const many = String(Math.max(100, s.subscribers));
  const server = await spawnServer(SERVER_MAIN, { ...benchServerEnv(dir), WS_MAX_SUBSCRIPTIONS_PER_KEY: many, WS_MAX_SOCKETS_PER_KEY: many, WS_MAX_SOCKETS_PER_IP: many });
  const clients: Client[] = [];
  try {
    const graphqlUrl = `${server.url}/graphql`;
    const wsUrl = graphqlUrl.replace(/^http/, "ws");
    const { createService } = await gql<{ createService: { id: string } }>(graphqlUrl, BENCH_ADMIN_KEY, `mutation { createService(input: { friendlyName: "Fanout", customCodeEnabled: true }) { id } }`);
    const serviceId = createService.id;
    const idleRssBytes = server.peakRss();
    server.resetPeakRss();

    log(`  connecting ${s.subscribers} graphql-ws clients`);
    const connected = countdown(s.subscribers, 60_000, "connections");
    for (let i = 0; i < s.subscribers; i++) {
      clients.push(
        createClient({
          url: wsUrl,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
          lazy: false,
          retryAttempts: 0,
          on: { connected: () => connected.hit() },
        }),
      );
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20)); // let the server accept in batches
    }
    await connected.done;

    const phones = new PhoneSource(17);
    const rounds: FanoutRound[] = [];
    for (let round = 0; round < s.fanoutRounds; round++) {
      const to = phones.take();
      const code = "246810";
      const input = { serviceId, to, channel: "SMS", customCode: code };
      const { startVerification } = await gql<{ startVerification: { id: string } }>(graphqlUrl, BENCH_ADMIN_KEY, START, { input });

      // The first message of every subscription is SUBSCRIBED: once each client has it, no event is missed.
      const live = countdown(s.subscribers, 30_000, "SUBSCRIBED acknowledgements");
      const timed = countdown(s.subscribers, 30_000, "APPROVED deliveries");
      const approvedAt = new Float64Array(s.subscribers);
      let approved = 0;
      const unsubscribe = clients.map((c, i) =>
        c.subscribe<{ verificationUpdated: { type: string } }>(
          { query: SUBSCRIPTION, variables: { id: startVerification.id } },
          {
            next: (msg) => {
              const type = msg.data?.verificationUpdated.type;
              if (type === "SUBSCRIBED") live.hit();
              else if (type === "APPROVED" && !approvedAt[i]) {
                approvedAt[i] = performance.now();
                approved++;
                timed.hit();
              }
            },
            error: (err) => log(`  subscriber ${i} error: ${JSON.stringify(err)}`),
            complete: () => undefined,
          },
        ),
      );
      await live.done;
      const t0 = performance.now();
      await gql(graphqlUrl, BENCH_ADMIN_KEY, CHECK, { input: { serviceId, to, code } });
      await timed.done;
      const lat = Array.from(approvedAt, (t) => t - t0).sort((a, b) => a - b);
      rounds.push({ firstMs: lat[0]!, p50Ms: percentile(lat, 50), lastMs: lat[lat.length - 1]!, delivered: approved });
      log(`  round ${round + 1}: last of ${approved} deliveries after ${lat[lat.length - 1]!.toFixed(1)} ms`);
      for (const u of unsubscribe) u();
    }
    const lasts = rounds.map((r) => r.lastMs).sort((a, b) => a - b);
    const lastMsMedian = percentile(lasts, 50);
    return {
      subscribers: s.subscribers,
      subscription: "verificationUpdated(verificationId)",
      rounds,
      lastMsMedian,
      lastMsMax: lasts[lasts.length - 1]!,
      deliveriesPerSecond: s.subscribers / (lastMsMedian / 1000),
      peakRssBytes: server.peakRss(),
      idleRssBytes,
    };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
