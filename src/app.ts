import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import type { AddressInfo } from "node:net";
import { ApiKeys } from "./auth/keys.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { DeliveryChannel } from "./delivery/channel.js";
import { DirectDispatcher, type Dispatcher } from "./delivery/dispatcher.js";
import { OutboxChannel } from "./delivery/outbox.js";
import { createEventBus, type VerifyPubSub } from "./events/pubsub.js";
import type { AppServices } from "./graphql/context.js";
import { buildVerifySchema } from "./graphql/schema.js";
import { ClientIpResolver } from "./http/client-ip.js";
import { createHttpServer, type HttpServer } from "./http/server.js";
import { createLogger, type Logger } from "./log.js";
import { buildRiskPipeline } from "./risk/build.js";
import { SqliteStore } from "./store/sqlite/store.js";
import type { Store } from "./store/types.js";
import { Lifecycle } from "./verification/lifecycle.js";
import { Services } from "./verification/services.js";

export interface AppOptions {
  config: Config;
  clock?: Clock;
  log?: Logger;
  /** Where start-up notices (the generated admin key) go. Default: stdout. */
  print?: (line: string) => void;
  /** Disable the expiry sweeper timer (tests drive `lifecycle.sweepExpired()` with a manual clock). */
  sweeper?: boolean;
}

export interface App {
  config: Config;
  services: AppServices;
  schema: GraphQLSchema;
  pubSub: VerifyPubSub;
  dispatcher: Dispatcher;
  http: HttpServer;
  /** Listens on the given port (0 = any) and returns the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/** The composition root: the only place that chooses implementations. */
export async function createApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const print = opts.print ?? ((line: string) => process.stdout.write(line + "\n"));

  const store: Store = openStore(config);
  const { pubSub, publisher } = createEventBus();
  const outbox = new OutboxChannel(log, () => clock.now());
  const channel: DeliveryChannel = outbox;
  const dispatcher = new DirectDispatcher(channel, store, log);
  const pipeline = buildRiskPipeline({ clock });
  const lifecycle = new Lifecycle({ store, clock, codeSecret: config.codeSecret, pipeline, dispatcher, events: publisher, log });
  const apiKeys = new ApiKeys(store, clock);
  await apiKeys.bootstrapAdmin({ configuredKey: config.ADMIN_API_KEY, production: config.NODE_ENV === "production", log, print });

  const services: AppServices = { store, clock, log, services: new Services(store, clock), lifecycle, apiKeys, outbox };
  const schema = await buildVerifySchema(pubSub);
  const http = createHttpServer({
    schema,
    app: services,
    clientIp: new ClientIpResolver(config.trustProxy),
    ready: () => store.ping(),
  });
  await http.start();

  let sweeper: NodeJS.Timeout | undefined;
  if (opts.sweeper !== false) {
    sweeper = setInterval(() => {
      lifecycle.sweepExpired().catch((err) => log.error("expiry sweep failed", { error: String(err) }));
    }, config.EXPIRY_SWEEP_SECONDS * 1000);
    sweeper.unref();
  }

  return {
    config,
    services,
    schema,
    pubSub,
    dispatcher,
    http,
    listen(port = config.PORT, host = config.HOST) {
      return new Promise((resolve, reject) => {
        http.server.once("error", reject);
        http.server.listen(port, host, () => {
          const addr = http.server.address() as AddressInfo;
          const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
          resolve(`http://${shownHost}:${addr.port}`);
        });
      });
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      await http.stop();
      await dispatcher.idle();
      await store.close();
    },
  };
}

function openStore(config: Config): Store {
  if (config.database.kind === "sqlite") return new SqliteStore(config.database.file);
  throw new Error("PostgreSQL store is not available yet: set DATABASE_URL=file:PATH");
}
