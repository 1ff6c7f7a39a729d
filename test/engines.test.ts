import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

/**
 * `engines` tells the truth: the oldest Node our package.json admits is admitted by every installed
 * package too, so `npm ci` never warns EBADENGINE. (@graphql-yoga/render-graphiql and the newest
 * @graphql-tools/* pulled @whatwg-node/* packages that declare Node >= 22.15; GraphiQL is now bundled
 * from the graphiql package and @graphql-tools/* pinned in `overrides` to versions that support Node 20.)
 */
const require = createRequire(import.meta.url);
const semver = require("semver") as { minVersion(range: string): { version: string } | null; satisfies(v: string, range: string): boolean };
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL("../package-lock.json", import.meta.url), "utf8")) as { packages: Record<string, { engines?: { node?: string } }> };

describe("engines", () => {
  const oldest = semver.minVersion(pkg.engines.node)!.version;

  it("admits the Node this runs on", () => {
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });

  it("admits no Node version that an installed package refuses", () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path} needs node ${p.engines!.node}`);
    expect(refusing).toEqual([]);
  });
});
