import { renderGraphiQL } from "@graphql-yoga/render-graphiql";

/**
 * GraphiQL as one self-contained page: its scripts, styles and workers are inlined from
 * node_modules, so it works with no internet (Apollo's landing page loads from a CDN).
 * Rendered once at start-up; the page is ~9 MB.
 */
export function renderOfflineGraphiQL(): string {
  return renderGraphiQL({
    title: "verify-guard GraphiQL",
    endpoint: "/graphql",
    subscriptionsProtocol: "WS",
    headers: JSON.stringify({ Authorization: "Bearer <paste your API key>" }, null, 2),
    defaultQuery: `# verify-guard. Put your API key in the Headers tab below, then try:
query Services {
  services { id friendlyName codeLength ttlSeconds }
}
`,
  } as never);
}
