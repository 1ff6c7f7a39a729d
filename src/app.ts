import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import type { AddressInfo } from "node:net";
import { ApiKeys } from "./auth/keys.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { DeliveryChannel } from "./delivery/channel.js";
import { OutboxChannel } from "./delivery/outbox.js";
import { DEFAULT_RETRY } from "./delivery/retry.js";
import { TwilioChannel, twilioOptionsFrom } from "./delivery/twilio.js";
import { DeliveryWorker, type Dispatcher } from "./delivery/worker.js";
import { createEventBus, type VerifyPubSub } from "./events/pubsub.js";
import type { AppServices } from "./graphql/context.js";
import { buildVerifySchema } from "./graphql/schema.js";
import { ClientIpResolver } from "./http/client-ip.js";
import { createHttpServer, type HttpServer } from "./http/server.js";
import { mountTwilioWebhook } from "./http/twilio-webhook.js";
import { createLogger, type Logger } from "./log.js";
import { buildRiskPipeline } from "./risk/build.js";
import { FraudAdmin } from "./risk/fraud-admin.js";
import { DecisionLog } from "./stats/decision-log.js";
import { FraudStats } from "./stats/fraud-stats.js";
import { PumpingDetector } from "./risk/pumping-detector.js";
import type { RiskPipeline } from "./risk/pipeline.js";
import { SlidingWindowLimiter } from "./risk/limiter.js";
import { redisCounters } from "./risk/limiter-redis.js";
import { RedisWindowCounter } from "./risk/window-counter-redis.js";
import { LimitsAdmin } from "./risk/limits-admin.js";
import { PriceTable } from "./risk/prices.js";
import type { LimitsOptions } from "./risk/stages/limits.js";
import { openRedisBackends } from "./redis.js";
import { openDatabase } from "./store/open.js";
import type { Store } from "./store/types.js";
import { Lifecycle } from "./verification/lifecycle.js";
import { Services } from "./verification/services.js";
import { EventWatcher } from "./verification/watch.js";

export interface AppOptions {
  config: Config;
  clock?: Clock;
  log?: Logger;
  /** Where start-up notices (the generated admin key) go. Default: stdout. */
  print?: (line: string) => void;
  /** Disable the expiry sweeper timer (tests drive `lifecycle.sweepExpired()` with a manual clock). */
  sweeper?: boolean;
  /** False = no delivery worker: jobs are written but not sent (tests of a crash before the send). */
  deliveryWorker?: boolean;
}

export interface App {
  config: Config;
  services: AppServices;
  schema: GraphQLSchema;
  pubSub: VerifyPubSub;
  dispatcher: Dispatcher;
  /** The risk pipeline the lifecycle runs (`npm run bench` times its decisions alone). */
  pipeline: RiskPipeline;
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

  // DATABASE_URL picks SQLite or PostgreSQL for every store at once (store/open.ts).
  const database = await openDatabase(config.database);
  const store: Store = database.store;
  // REDIS_URL: limits, detector counters and events shared by every instance; otherwise in-process.
  const redis = config.REDIS_URL ? openRedisBackends(config.REDIS_URL, config.REDIS_KEY_PREFIX, log) : null;
  const { pubSub, publisher } = createEventBus(redis?.eventTarget);
  // Twilio when credentials are set, else the local outbox; either way through durable jobs and the worker.
  const twilio = twilioOptionsFrom(config);
  const outbox = twilio ? null : new OutboxChannel(log, () => clock.now());
  const channel: DeliveryChannel = twilio ? new TwilioChannel(twilio) : outbox!;
  const dispatcher: Dispatcher = new DeliveryWorker({
    jobs: database.delivery,
    store,
    channel,
    clock,
    log,
    codeSecret: config.codeSecret,
    events: publisher,
    failVerification: (id: string): Promise<unknown> => lifecycle.fail(id),
    retry: { ...DEFAULT_RETRY, maxAttempts: config.DELIVERY_MAX_ATTEMPTS },
    // A claim must outlast one request, or a slow send would be taken over while still in flight.
    leaseMs: Math.max(30_000, 3 * config.TWILIO_TIMEOUT_MS),
  });
  // Limiter counters: Redis when REDIS_URL is set (shared by every instance), else the database's.
  const limiter = new SlidingWindowLimiter(redis ? redisCounters(redis.client, redis.prefix) : database.counters, clock);
  const prices = new PriceTable(database.limits);
  // Fraud stages' window counters: Redis when REDIS_URL is set (detectors see every instance's traffic), else the database's.
  const windowCounter = redis ? new RedisWindowCounter(redis.client, redis.prefix, { log }) : database.windowCounter;
  const detector = new PumpingDetector(windowCounter, database.fraud, log);
  const pipeline = buildRiskPipeline({
    clock,
    log,
    limiter,
    limits: limitsFromConfig(config),
    prices,
    spend: database.limits,
    defaultBudgetCents: config.SPEND_DAILY_BUDGET_CENTS,
    fraud: database.fraud,
    counter: windowCounter,
    detector,
  });
  const lifecycle = new Lifecycle({ store, clock, codeSecret: config.codeSecret, pipeline, dispatcher, events: publisher, log });
  const apiKeys = new ApiKeys(store, clock);
  await apiKeys.bootstrapAdmin({ configuredKey: config.ADMIN_API_KEY, production: config.NODE_ENV === "production", log, print });

  const serviceAdmin = new Services(store, clock);
  const limitsAdmin = new LimitsAdmin({ services: serviceAdmin, spend: database.limits, prices, clock, defaultBudgetCents: config.SPEND_DAILY_BUDGET_CENTS });
  const fraudAdmin = new FraudAdmin({ store: database.fraud, services: serviceAdmin, detector, clock, stageNames: pipeline.stageNames });
  const stats = new FraudStats({ stats: database.stats, store, prices });
  const decisionLog = new DecisionLog(database.stats);
  const watcher = new EventWatcher({ pubSub, store, lifecycle, clock });
  const services: AppServices = { store, clock, log, services: serviceAdmin, lifecycle, apiKeys, outbox, limits: limitsAdmin, fraud: fraudAdmin, stats, decisionLog, watcher };
  const schema = await buildVerifySchema(pubSub);
  const http = createHttpServer({
    schema,
    app: services,
    clientIp: new ClientIpResolver(config.trustProxy),
    // Depth and cost limits per role, checked before any resolver runs, over HTTP and WebSocket alike.
    costLimits: {
      ADMIN: { maxDepth: config.GRAPHQL_MAX_DEPTH, maxComplexity: config.GRAPHQL_MAX_COMPLEXITY },
      CLIENT: { maxDepth: config.GRAPHQL_MAX_DEPTH, maxComplexity: Math.min(config.GRAPHQL_CLIENT_MAX_COMPLEXITY, config.GRAPHQL_MAX_COMPLEXITY) },
    },
    introspection: config.INTROSPECTION,
    ready: async () => {
      await database.ping();
      await redis?.ping();
    },
    // Twilio's status callbacks, when they can be verified (auth token) and were asked for (PUBLIC_URL).
    routes:
      twilio?.statusCallbackUrl && config.TWILIO_AUTH_TOKEN && config.PUBLIC_URL
        ? (router) =>
            mountTwilioWebhook(router, { authToken: config.TWILIO_AUTH_TOKEN!, publicUrl: config.PUBLIC_URL!, store, jobs: database.delivery, events: publisher, clock, log })
        : undefined,
  });
  await http.start();
  if (opts.deliveryWorker !== false) dispatcher.start();

  let sweeper: NodeJS.Timeout | undefined;
  if (opts.sweeper !== false) {
    sweeper = setInterval(() => {
      lifecycle.sweepExpired().catch((err) => log.error("expiry sweep failed", { error: String(err) }));
      database.sweepCounters().catch((err) => log.error("limiter counter sweep failed", { error: String(err) }));
    }, config.EXPIRY_SWEEP_SECONDS * 1000);
    sweeper.unref();
  }

  return {
    config,
    services,
    pipeline,
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
      await dispatcher.stop();
      await database.close();
      await redis?.close();
    },
  };
}

/** The per-IP and per-number limits from the environment (null = off). */
function limitsFromConfig(config: Config): Partial<LimitsOptions> {
  return {
    startsPerIp: config.LIMIT_STARTS_PER_IP,
    checksPerIp: config.LIMIT_CHECKS_PER_IP,
    startsPerNumber: config.LIMIT_STARTS_PER_NUMBER,
    checksPerNumber: config.LIMIT_CHECKS_PER_NUMBER,
    failedChecksPerNumber: config.LIMIT_FAILED_CHECKS_PER_NUMBER,
    failureMode: config.LIMITER_FAILURE_MODE,
  };
}
