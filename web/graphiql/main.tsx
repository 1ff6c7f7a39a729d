import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { Kind, type DocumentNode, type OperationDefinitionNode } from "graphql";
import type { Client } from "graphql-ws";
import { StrictMode } from "react";
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

function isSubscription(doc: DocumentNode | undefined, operationName: string | null | undefined): boolean {
  const ops = (doc?.definitions ?? []).filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
  return op?.operation === "subscription";
}

const fetcher = (params: { query: string; operationName?: string | null; variables?: unknown }, opts?: { headers?: Headers; documentAST?: DocumentNode }) => {
  const headers = opts?.headers ?? {};
  if (isSubscription(opts?.documentAST, params.operationName)) {
    return {
      subscribe(observer: Observer) {
        const dispose = clientFor(headers).subscribe(
          { query: params.query, operationName: params.operationName ?? undefined, variables: (params.variables ?? undefined) as Record<string, unknown> | undefined },
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
    />
  </StrictMode>,
);
