import { renderGraphiQL } from "@graphql-yoga/render-graphiql";

type GraphiQLOptions = NonNullable<Parameters<typeof renderGraphiQL>[0]>;

/**
 * GraphiQL as one self-contained page: its scripts, styles and workers are inlined from
 * node_modules (@graphql-yoga/render-graphiql), so it works with no internet (Apollo's landing page
 * loads from a CDN). The endpoint is relative, so the page talks to whichever host served it.
 * Rendered once at start-up; the page is ~9 MB.
 */
export function renderOfflineGraphiQL(): string {
  const options: GraphiQLOptions = {
    title: "verify-guard GraphiQL",
    endpoint: "/graphql",
    subscriptionsProtocol: "WS",
    // The header editor opens with the one header every operation needs.
    headers: JSON.stringify({ Authorization: "Bearer <paste your API key>" }, null, 2),
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: "headers",
    defaultQuery: `# verify-guard. Put your API key in the Headers tab below, then try:
query Services {
  services { id friendlyName codeLength ttlSeconds }
}
`,
  };
  return renderGraphiQL(options);
}
