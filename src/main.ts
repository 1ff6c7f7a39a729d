import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { describeDelivery } from "./delivery/twilio.js";

/** Entry point: read config, build the app, listen, shut down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + "\n");
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const app = await createApp({ config });
  let url: string;
  try {
    url = await app.listen();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      process.stderr.write(`verify-guard: port ${config.PORT} is already in use on ${config.HOST}: stop what is using it, or start with another PORT\n`);
      process.exit(1);
    }
    throw err;
  }
  const db = config.database.kind === "sqlite" ? `SQLite ${config.database.file}` : "PostgreSQL";
  process.stdout.write(
    [
      `verify-guard listening on ${url}/graphql (GraphiQL: open it in a browser)`,
      `  store: ${db}; delivery: ${describeDelivery(config)}`,
      `  auth: send  Authorization: Bearer <api key>  (ADMIN_API_KEY, or the key printed on first start)`,
      `  Twilio-compatible REST API: ${url}/v2  (account SID ${app.services.apiKeys.accountSid}; password: an API key)`,
      ...(config.demoPage ? [`  demo sign-up page: ${url}/demo`] : []),
      `  admin dashboard: ${url}/admin`,
    ].join("\n") + "\n",
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: draining and shutting down\n`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await app.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`verify-guard failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
