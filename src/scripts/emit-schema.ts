import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { printSchemaFile } from "../graphql/print.js";

/** `npm run schema`: writes schema.graphql at the repo root from the type-graphql code. */
writeFileSync(new URL("../../../schema.graphql", import.meta.url), await printSchemaFile());
process.stdout.write("schema.graphql written\n");
