import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from "graphql";
import type { Client } from "graphql-ws";
import { useSchemaStore } from "@graphiql/react";
import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";
import { describeSocketError, liveClient, readConfig } from "../shared/api";

/**
 * GraphiQL, bundled from the graphiql package at build time (scripts/build-web.mjs). The fetcher sends
 * the Headers tab with every HTTP request and, for subscriptions, in graphql-ws's `connection_init`,
 * so a pasted key authenticates subscriptions too. A refused key reads as a sentence.
 */
interface Config {
  endpoint: string;
  headers: string;
  defaultQuery: string;
}
const config = readConfig<Config>();

type Headers = Record<string, unknown>;
type Result = { data?: unknown; errors?: { message: string }[] };
interface Observer {
  next(v: Result): void;
  error(e: unknown): void;
  complete(): void;
}

/** One socket at a time, for the headers it was opened with; new headers open a new one. */
let socket: { key: string; client: Client } | null = null;
function clientFor(headers: Headers): Client {
  const key = JSON.stringify(headers);
  if (socket?.key !== key) {
    void socket?.client.dispose();
    socket = { key, client: liveClient(headers) };
  }
  return socket.client;
}

/**
 * The operation to run, read from the text being sent. GraphiQL's own operation name and parsed
 * document trail the editor by a moment, so a query pasted (or typed fast) and run at once would go
 * out under the previous operation's name ("Unknown operation named …").
 */
function operationOf(query: string, operationName: string | null | undefined): { operationName: string | undefined; subscription: boolean } {
  let doc: DocumentNode;
  try {
    doc = parse(query);
  } catch {
    return { operationName: operationName ?? undefined, subscription: false }; // the server names the syntax error
  }
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = (operationName ? ops.find((o) => o.name?.value === operationName) : undefined) ?? (ops.length === 1 ? ops[0] : undefined);
  return { operationName: op?.name?.value ?? (op ? undefined : (operationName ?? undefined)), subscription: op?.operation === "subscription" };
}

const fetcher = (raw: { query: string; operationName?: string | null; variables?: unknown }, opts?: { headers?: Headers }) => {
  const headers = opts?.headers ?? {};
  const op = operationOf(raw.query, raw.operationName);
  const params = { ...raw, operationName: op.operationName };
  if (op.subscription) {
    return {
      subscribe(observer: Observer) {
        const dispose = clientFor(headers).subscribe(
          { query: params.query, operationName: params.operationName, variables: (params.variables ?? undefined) as Record<string, unknown> | undefined },
          {
            next: (value) => observer.next(value as Result),
            // Shown in the response pane as an error result, then the subscription ends.
            error: (e) => {
              observer.next({ errors: [{ message: describeSocketError(e) }] });
              observer.complete();
            },
            complete: () => observer.complete(),
          },
        );
        return { unsubscribe: dispose };
      },
    };
  }
  return fetch(config.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...(headers as Record<string, string>) },
    body: JSON.stringify(params),
  }).then(
    (r) => r.json() as Promise<Result>,
    () => ({ errors: [{ message: "The server could not be reached." }] }),
  );
};

/**
 * The schema is fetched on load with the Headers tab as it is (a placeholder key, so 401 when
 * introspection needs a key); once a key is pasted, fetch it again so the Docs pane and completion work.
 */
const KEY_PASTED = "vg-key-pasted";
let lastAuthorization: string | undefined;
let pasteTimer: number | undefined;
function onEditHeaders(text: string): void {
  window.clearTimeout(pasteTimer);
  pasteTimer = window.setTimeout(() => {
    let authorization: unknown;
    try {
      const h = JSON.parse(text) as Record<string, unknown>;
      authorization = h.Authorization ?? h.authorization;
    } catch {
      return; // still being typed
    }
    if (typeof authorization !== "string" || authorization.includes("<") || authorization === lastAuthorization) return;
    lastAuthorization = authorization;
    window.dispatchEvent(new Event(KEY_PASTED));
  }, 500);
}

function IntrospectWhenKeyPasted(): null {
  const introspect = useSchemaStore((s) => s.introspect);
  useEffect(() => {
    const again = () => void introspect();
    window.addEventListener(KEY_PASTED, again);
    return () => window.removeEventListener(KEY_PASTED, again);
  }, [introspect]);
  return null;
}

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher as never}
      defaultQuery={config.defaultQuery}
      defaultHeaders={config.headers}
      headers={config.headers}
      isHeadersEditorEnabled
      defaultEditorToolsVisibility="headers"
      shouldPersistHeaders={false}
      onEditHeaders={onEditHeaders}
    >
      <GraphiQL.Footer>
        <IntrospectWhenKeyPasted />
      </GraphiQL.Footer>
    </GraphiQL>
  </StrictMode>,
);
