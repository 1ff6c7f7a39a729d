import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** `drizzle/<dialect>` at the repository root, from src/ (vitest) and from dist/src/ (npm start). */
export function migrationsFolder(dialect: "sqlite" | "pg"): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes("/dist/") ? here.slice(0, here.lastIndexOf("/dist/")) : here.slice(0, here.lastIndexOf("/src/"));
  return join(root, "drizzle", dialect);
}
