import { buildWeb } from "../../scripts/build-web.js";

/** The pages' bundles (dist/web), built once before the tests as `npm run build` builds them. */
export default async function setup(): Promise<void> {
  await buildWeb();
}
