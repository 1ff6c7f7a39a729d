import type { PageSpec } from "./html.js";

/**
 * GraphiQL (web/graphiql/main.tsx, bundled from the graphiql package): offline, compressed, cached by
 * ETag. The endpoint is relative, so the page talks to whichever host served it; the Headers tab opens
 * with the one header every operation (and every subscription's connection_init) needs.
 */
export function graphiqlPage(): PageSpec {
  return {
    page: "graphiql",
    title: "verify-guard GraphiQL",
    config: {
      endpoint: "/graphql",
      headers: JSON.stringify({ Authorization: "Bearer <paste your API key>" }, null, 2),
      defaultQuery: `# verify-guard. Put your API key in the Headers tab below, then try:
query Services {
  services { id friendlyName codeLength ttlSeconds }
}

# Live events of a service (admin key), over WebSocket with the same header:
# subscription { verificationEvents(serviceId: "VA…") { type status country stage at } }
`,
    },
    body: `<div id="graphiql" style="height:100vh"><noscript>GraphiQL needs JavaScript.</noscript></div>`,
  };
}
