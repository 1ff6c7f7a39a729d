import autocannon from "autocannon";

/** One request the load generator sends: a body (GraphQL JSON or a REST form) plus headers, and a tag to match the answer. */
export interface PlannedRequest<T> {
  body: string;
  headers: Record<string, string>;
  tag: T;
}

export interface LoadSpec<T> {
  /** The endpoint: GraphQL's, or a REST resource. */
  url: string;
  connections: number;
  /** Seconds to run; ignored when `amount` is set. */
  duration: number;
  /** Exact number of requests (used when the supply of work is finite, e.g. codes to check). */
  amount?: number;
  /** The next request to send. Called once per request, on the load generator's event loop. */
  next(): PlannedRequest<T>;
  /** Called with each answered request's tag and whether it succeeded (2xx; for GraphQL, data and no errors), and its data. */
  onAnswer?(tag: T, ok: boolean, data: Record<string, unknown> | null): void;
}

/** What one load run measured. Latencies in milliseconds. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** HTTP errors, socket errors, timeouts, and 200 answers carrying GraphQL errors. */
  errors: number;
  errorRate: number;
  /** Errors by their `extensions.code`, a REST error's Twilio `code` (or HTTP_<status>, SOCKET), to show what short-circuited. */
  errorCodes: Record<string, number>;
}

/**
 * Drives one GraphQL operation with autocannon. Each request's body comes from `spec.next()` (so
 * every request can carry a distinct number and client IP) and each answer is parsed: a GraphQL
 * error in a 200 answer counts as an error too, keyed by its machine code.
 */
export async function runLoad<T>(spec: LoadSpec<T>): Promise<LoadResult> {
  const errorCodes: Record<string, number> = {};
  let graphqlErrors = 0;
  const countError = (code: string) => {
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  };
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    amount: spec.amount,
    timeout: 30,
    method: "POST",
    requests: [
      {
        method: "POST",
        setupRequest(req, context) {
          const planned = spec.next();
          context.tag = planned.tag;
          return { ...req, body: planned.body, headers: planned.headers };
        },
        onResponse(status, body, context) {
          let data: Record<string, unknown> | null = null;
          const success = status >= 200 && status < 300;
          let code: string | null = success ? null : `HTTP_${status}`;
          try {
            const parsed = JSON.parse(body) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[]; code?: number };
            if (parsed.errors?.length) code = parsed.errors[0]!.extensions?.code ?? "UNKNOWN";
            else if (!success && typeof parsed.code === "number") code = String(parsed.code); // Twilio's error JSON
            // GraphQL answers under `data`; a REST answer is the resource itself.
            data = "data" in parsed ? (parsed.data ?? null) : success ? (parsed as Record<string, unknown>) : null;
          } catch {
            code ??= "UNPARSABLE";
          }
          if (code) {
            countError(code);
            if (success) graphqlErrors++; // non-2xx are already in autocannon's non2xx
          }
          spec.onAnswer?.(context.tag as T, code === null, data);
        },
      },
    ],
  });
  const requests = result.requests.total;
  const socketErrors = result.errors;
  if (socketErrors) errorCodes.SOCKET = (errorCodes.SOCKET ?? 0) + socketErrors;
  const errors = result.non2xx + graphqlErrors + socketErrors;
  return {
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
    errorRate: requests ? errors / requests : 0,
    errorCodes,
  };
}
