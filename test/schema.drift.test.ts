import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { printSchemaFile } from "../src/graphql/print.js";

describe("schema.graphql", () => {
  it("matches the schema generated from the code (run `npm run schema` after changing the API)", async () => {
    const committed = readFileSync(new URL("../schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(await printSchemaFile());
  });
});
