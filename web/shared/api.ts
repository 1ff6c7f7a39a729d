import { createClient, type Client } from "graphql-ws";

/**
 * What every page shares: its configuration (a JSON block the server renders into the page, so no
 * inline script runs), GraphQL over HTTP, a graphql-ws client, and errors people can read.
 */

/** The JSON the server put in `<script id="vg-config" type="application/json">`. */
export function readConfig<T>(): T {
  const el = document.getElementById("vg-config");
  return JSON.parse(el?.textContent ?? "{}") as T;
}

export interface GqlError {
  message: string;
  extensions?: { code?: string; errorCode?: number; retryAfterSeconds?: number; detail?: { field?: string } };
}

export interface GqlResult<T> {
  data?: T | null;
  errors?: GqlError[];
}

/** POSTs one operation to /graphql with the given key. A network failure comes back as an error too. */
export async function gql<T>(query: string, variables: Record<string, unknown>, key: string): Promise<GqlResult<T>> {
  try {
    const res = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult<T>;
  } catch {
    return { errors: [{ message: "The server could not be reached. Check your connection and try again.", extensions: { code: "NETWORK" } }] };
  }
}

/** ws(s)://this host/graphql. */
export function wsUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
}

/** graphql-ws's close code for a refused `connection_init` (a missing, wrong or revoked key). */
export const CLOSE_FORBIDDEN = 4403;

function closeCode(e: unknown): number | null {
  return typeof e === "object" && e !== null && "code" in e && typeof (e as { code: unknown }).code === "number" ? (e as { code: number }).code : null;
}

/**
 * A graphql-ws client that sends `connectionParams` in `connection_init` and does not retry a refused
 * key (retrying cannot help, and hides the reason for a minute).
 */
export function liveClient(connectionParams: Record<string, unknown>, onStatus?: (status: "connected" | "closed") => void): Client {
  return createClient({
    url: wsUrl(),
    connectionParams,
    lazy: true,
    retryAttempts: 5,
    shouldRetry: (e) => closeCode(e) !== CLOSE_FORBIDDEN,
    on: { connected: () => onStatus?.("connected"), closed: () => onStatus?.("closed") },
  });
}

/**
 * A readable sentence for whatever a graphql-ws sink's `error` receives: a CloseEvent, an Event (the
 * socket failed), an array of GraphQL errors, or an Error. Never `{"isTrusted":true}`.
 */
export function describeSocketError(e: unknown): string {
  if (Array.isArray(e)) return e.map((x: GqlError) => x.message).join("; ");
  const code = closeCode(e);
  if (code === CLOSE_FORBIDDEN) {
    return "The server refused the API key (WebSocket closed with 4403 Forbidden): send a valid key as Authorization: Bearer <key>.";
  }
  if (code !== null) {
    const reason = (e as { reason?: string }).reason;
    return `The live connection closed (${code}${reason ? `: ${reason}` : ""}).`;
  }
  if (e instanceof Error) return e.message;
  return "The live connection to the server could not be opened.";
}

/** "4 minutes", "30 seconds", "2 hours": how long to wait, rounded up. */
export function waitFor(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (seconds < 60) return plural(Math.max(1, Math.ceil(seconds)), "second");
  if (seconds < 3600) return plural(Math.ceil(seconds / 60), "minute");
  return plural(Math.ceil(seconds / 3600), "hour");
}
