import { createClient, type Client, type ClientOptions, type FormattedExecutionResult } from "graphql-ws";
import WebSocket from "ws";
import type { TestServer } from "./harness.js";

/** A real graphql-ws client over a real `ws` WebSocket, with its sockets at hand (to pause or count them). */
export interface WsClient {
  client: Client;
  /** Every socket the client opened, oldest first (a reconnect adds one). */
  sockets: WebSocket[];
  /** How many times the client was acknowledged (connection_ack). */
  connects: () => number;
  dispose(): Promise<void>;
}

/** Connects with `connection_init` payload `{ authorization: "Bearer <key>" }` (no payload when key is null). */
export function wsClient(s: TestServer, key: string | null, opts: Partial<ClientOptions> = {}): WsClient {
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  let connects = 0;
  const client = createClient({
    url: s.wsUrl,
    webSocketImpl: TrackedWebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : undefined,
    retryAttempts: 0,
    ...opts,
    on: { ...opts.on, connected: () => void connects++ },
  });
  return { client, sockets, connects: () => connects, dispose: async () => client.dispose() };
}

/** One subscription's results as they arrive, and how it ended. */
export interface Recording<T> {
  results: FormattedExecutionResult<T, unknown>[];
  /** The data of every result, in order. */
  data(): T[];
  /** Resolves once `n` results arrived (rejects after `timeoutMs` with what arrived). */
  waitFor(n: number, timeoutMs?: number): Promise<FormattedExecutionResult<T, unknown>[]>;
  /** Settles when the subscription completes (or errors: then with the error, e.g. a CloseEvent). */
  ended: Promise<{ error: unknown | null }>;
  unsubscribe(): void;
}

export function record<T = Record<string, unknown>>(c: WsClient, query: string, variables: Record<string, unknown>): Recording<T> {
  const results: FormattedExecutionResult<T, unknown>[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of [...waiters]) if (results.length >= w.n) w.resolve();
  };
  let end!: (v: { error: unknown | null }) => void;
  const ended = new Promise<{ error: unknown | null }>((resolve) => (end = resolve));
  const unsubscribe = c.client.subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        results.push(r);
        wake();
      },
      error: (error) => end({ error }),
      complete: () => end({ error: null }),
    },
  );
  return {
    results,
    data: () => results.map((r) => r.data as T),
    waitFor(n, timeoutMs = 5000) {
      if (results.length >= n) return Promise.resolve(results);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited for ${n} results, got ${results.length}: ${JSON.stringify(results)}`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(results);
          },
        });
      });
    },
    ended,
    unsubscribe,
  };
}
