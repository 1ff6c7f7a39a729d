import { defineConfig } from "vitest/config";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // type-graphql loads graphql's CommonJS build; make our code load the very same module,
    // or graphql throws "Cannot use GraphQLObjectType from another module or realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql/index.js") }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // Probes PostgreSQL/Redis once and prints which scale-out suites run (and why not).
    // Bundles the browser pages into dist/web (GraphiQL, /demo, /admin), as `npm run build` does.
    globalSetup: ["test/helpers/backends.global-setup.ts", "test/helpers/web.global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    server: { deps: { inline: ["type-graphql"] } },
  },
});
