/** A GraphQL call over HTTP with a bearer key, for the bench's setup steps (not measured). */
export async function gql<T>(graphqlUrl: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Distinct client addresses for X-Forwarded-For (10.0.0.0/8), so per-IP limits see many clients. */
export function clientIp(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

export const BENCH_ADMIN_KEY = "vg_admin_bench_0123456789abcdef0123456789";
export const BENCH_CODE_SECRET = "bench-code-secret-0123456789abcdef0123456789";
