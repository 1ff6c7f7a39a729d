import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import type { AddressInfo } from "node:net";
import { ApiKeys, instanceAccountSid } from "./auth/keys.js";
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
import { createOriginPolicy } from "./http/cors.js";
import { ensureDemoService } from "./http/pages/demo.js";
import { mountPages } from "./http/pages/mount.js";
import { createHttpServer, type HttpServer } from "./http/server.js";
import { MemorySlots, RedisSlots } from "./http/slots.js";
import { loadWebBundles } from "./http/web-bundles.js";
import { mountTwilioWebhook } from "./http/twilio-webhook.js";
import { mountJwks } from "./http/jwks.js";
import { createRestRouter } from "./rest/router.js";
import { createLogger, type Logger } from "./log.js";
import { openStreams } from "./events/stream.js";
import { createMetricsServer, mountMetrics } from "./http/metrics.js";
import { gaugeOf, Metrics } from "./metrics.js";
import { ApprovalTokens } from "./verification/approval-tokens.js";
import { DeliveryAlerts } from "./alerts/delivery-alerts.js";
import { Webhooks } from "./webhooks/webhooks.js";
import type { RiskDecisionRow, RiskWrites } from "./store/types.js";
import type { Server } from "node:http";
import { ConversionHistory } from "./risk/baselines.js";
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
import { numberKeyer } from "./risk/number-key.js";
import { PriceTable } from "./risk/prices.js";
import type { LimitsOptions } from "./risk/stages/limits.js";
import { openRedisBackends, redisKeysWith } from "./redis.js";
import { Privacy } from "./privacy/privacy.js";
import { Purger } from "./retention/purger.js";
import { RetentionAdmin } from "./retention/admin.js";
import { SIGNALS } from "./risk/signals.js";
import { COUNTER_BUCKET_MS } from "./store/queries/window-counter.js";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { openDatabase } from "./store/open.js";
import type { Store } from "./store/types.js";
import { ConsentRecords } from "./verification/consent.js";
import { Lifecycle } from "./verification/lifecycle.js";
import { Services } from "./verification/services.js";
import { EventWatcher } from "./verification/watch.js";

export interface AppOptions {
  config: Config;
  clock?: Clock;
  log?: Logger;
  /** Where start-up notices (the generated admin key) go. Default: stdout. */
  print?: (line: string) => void;
  /**
   * Disable the expiry sweeper and the purger's timers (tests drive `lifecycle.sweepExpired()` and
   * `purger.runOnce()` with a manual clock).
   */
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
  /** The webhook outbox's worker (tests wait on `webhooks.idle()`). */
  webhooks: Webhooks;
  /** Delivery-rate alerts (tests run `alerts.evaluate()` with a manual clock). */
  alerts: DeliveryAlerts;
  /** The retention's background purger (tests run `purger.runOnce()` with a manual clock). */
  purger: Purger;
  /** The risk pipeline the lifecycle runs (`npm run bench` times its decisions alone). */
  pipeline: RiskPipeline;
  http: HttpServer;
  /** Prometheus metrics of this process (served at /metrics or on METRICS_PORT). */
  metrics: Metrics;
  /** The METRICS_PORT listener, when one is configured (started by `listen`). */
  metricsServer: Server | null;
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

  // In-process counters and histograms; nothing here does I/O on the request path.
  const metrics = new Metrics({ countries: config.METRICS_COUNTRIES });
  // DATABASE_URL picks SQLite or PostgreSQL for every store at once (store/open.ts). Each store is
  // timed (verify_guard_store_duration_seconds); recorded decisions and charged spend are counted.
  const database = await openDatabase(config.database);
  // A request's decision row and its shadowed spend charge commit with the request (store.commit*).
  const chargedSpend = (w: RiskWrites) => w.spend && metrics.spent(w.spend.serviceId, w.spend.usdMicros, w.spend.capped === true);
  const store: Store = metrics.timed("verifications", database.store, {
    insertDecision: (_: void, row: RiskDecisionRow) => metrics.decision(row),
    commitDecision: (_: void, row: RiskDecisionRow) => metrics.decision(row),
    commitCheck: (_: unknown, input: { decision: RiskDecisionRow }) => metrics.decision(input.decision),
    commitStart: (r: { kind: string }, input: { decision: { sent: RiskDecisionRow; capped: RiskDecisionRow }; writes: RiskWrites }) => {
      metrics.decision(r.kind === "max_sends" ? input.decision.capped : input.decision.sent);
      if (r.kind !== "max_sends") chargedSpend(input.writes);
    },
  });
  const deliveryJobs = metrics.timed("delivery", database.delivery);
  const limitsStore = metrics.timed("limits", database.limits, {
    // A reservation of the capped share names its cap; an unreserved charge says `capped`.
    reserveSpend: (r: { reserved: boolean }, input: { serviceId: string; usdMicros: number; capMicros?: number | null }) => {
      if (r.reserved) metrics.spent(input.serviceId, input.usdMicros, input.capMicros != null);
    },
    addSpend: (_: void, input: { serviceId: string; usdMicros: number; capped?: boolean }) => metrics.spent(input.serviceId, input.usdMicros, input.capped === true),
  });
  const fraudStore = metrics.timed("fraud", database.fraud);
  // REDIS_URL: limits, detector counters and events shared by every instance; otherwise in-process.
  const redis = config.REDIS_URL ? openRedisBackends(config.REDIS_URL, config.REDIS_KEY_PREFIX, log) : null;
  const bus = createEventBus(redis?.eventTarget);
  const pubSub = bus.pubSub;
  // Every event the domain publishes is counted here, once, by the instance that published it.
  // Signed outbound webhooks: the deliveries of every event a service subscribed to are written in the
  // transaction of the change the event reports (eventOutbox below) and sent by their worker, which
  // the publisher wakes once the event is out.
  const webhooks = new Webhooks({
    store: metrics.timed("webhooks", database.webhooks),
    codeSecret: config.codeSecret,
    log,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    retry: { maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, baseDelayMs: 1_000, maxDelayMs: 3_600_000 },
    requireHttps: config.NODE_ENV === "production",
    onAttempt: (outcome, status) => metrics.webhookAttempts.inc({ outcome, status: status === null ? "none" : String(status) }),
  });
  const publisher = webhooks.publisher(metrics.countingPublisher(bus.publisher));
  // Twilio when credentials are set, else the local outbox; either way through durable jobs and the worker.
  const twilio = twilioOptionsFrom(config);
  const outbox = twilio ? null : new OutboxChannel(log, () => clock.now());
  const channel: DeliveryChannel = twilio ? new TwilioChannel(twilio) : outbox!;
  const dispatcher: Dispatcher = new DeliveryWorker({
    jobs: deliveryJobs,
    store,
    channel,
    clock,
    log,
    codeSecret: config.codeSecret,
    events: publisher,
    eventOutbox: webhooks,
    failVerification: (id: string): Promise<unknown> => lifecycle.fail(id),
    retry: { ...DEFAULT_RETRY, maxAttempts: config.DELIVERY_MAX_ATTEMPTS },
    // A claim must outlast one request, or a slow send would be taken over while still in flight.
    leaseMs: Math.max(30_000, 3 * config.TWILIO_TIMEOUT_MS),
    metrics,
  });
  // Rate limits: consumed in Redis when REDIS_URL is set (shared by every instance, through
  // rate-limiter-flexible); else decided from the request's batched read and taken in its commit.
  const limiter = redis ? metrics.timed("limiter", new SlidingWindowLimiter(redisCounters(redis.client, redis.prefix), clock)) : "commit";
  const prices = new PriceTable(limitsStore);
  // Fraud stages' window counters: Redis when REDIS_URL is set (detectors see every instance's traffic), else the database's.
  const windowCounter = redis ? new RedisWindowCounter(redis.client, redis.prefix, { log }) : database.windowCounter;
  // Each service's own conversion history per country: the detector's adaptive baselines and the spend guard's shares.
  const history = new ConversionHistory({ stats: database.stats, clock, log });
  const detector = new PumpingDetector({ counter: windowCounter, store: fraudStore, history, events: publisher, log });
  // Counter keys name a number by this keyed token; so do rows the retention anonymized.
  const numberKey = numberKeyer(config.codeSecret);
  const pipeline = buildRiskPipeline({
    clock,
    log,
    limiter,
    limits: limitsFromConfig(config),
    prices,
    spend: limitsStore,
    defaultBudgetCents: config.SPEND_DAILY_BUDGET_CENTS,
    fraud: fraudStore,
    counter: windowCounter,
    detector,
    numberKey,
    defaultCappedSharePercent: config.SPEND_CAPPED_SHARE_PERCENT,
    history,
    events: publisher,
  });
  const consent = new ConsentRecords({ store: database.consent, clock });
  // Data-subject requests: a number's export and erasure, across every table (and Redis's counters).
  const privacy = new Privacy({ store: database.privacy, fraud: fraudStore, numberKey, clock, log, outbox, external: redis ? redisKeysWith(redis.client, redis.prefix) : null });
  const approvals = new ApprovalTokens({
    store: metrics.timed("approvals", database.approvals),
    clock,
    codeSecret: config.codeSecret,
    ttlSeconds: config.APPROVAL_TOKEN_TTL_SECONDS,
    rotationMs: config.APPROVAL_KEY_ROTATION_HOURS * 3_600_000,
    issuer: config.APPROVAL_TOKEN_ISSUER ?? config.PUBLIC_URL ?? "verify-guard",
  });
  const issuing = { issue: async (v: Parameters<ApprovalTokens["issue"]>[0]) => {
    const token = await approvals.issue(v);
    metrics.approvalTokens.inc({ service: v.serviceId });
    return token;
  } };
  const lifecycle = new Lifecycle({ store, clock, codeSecret: config.codeSecret, pipeline, dispatcher, events: publisher, eventOutbox: webhooks, log, counters: windowCounter, approvals: issuing, consent });
  const apiKeys = new ApiKeys(store, clock, await instanceAccountSid(store, config.VERIFY_ACCOUNT_SID), log);
  await apiKeys.bootstrapAdmin({ configuredKey: config.ADMIN_API_KEY, production: config.NODE_ENV === "production", log, print });

  const serviceAdmin = new Services(store, clock);
  const limitsAdmin = new LimitsAdmin({ services: serviceAdmin, spend: limitsStore, prices, clock, defaultBudgetCents: config.SPEND_DAILY_BUDGET_CENTS, defaultCappedSharePercent: config.SPEND_CAPPED_SHARE_PERCENT });
  const fraudAdmin = new FraudAdmin({ store: fraudStore, services: serviceAdmin, detector, clock, stageNames: pipeline.stageNames });
  const stats = new FraudStats({ stats: database.stats, store, prices, spend: limitsStore });
  const decisionLog = new DecisionLog(database.stats);
  const watcher = new EventWatcher({ pubSub, store, lifecycle, clock });
  const alerts = new DeliveryAlerts({
    store: metrics.timed("alerts", database.alerts),
    events: publisher,
    eventOutbox: webhooks,
    clock,
    log,
    windowMs: config.ALERT_WINDOW_MINUTES * 60_000,
    minSends: config.ALERT_MIN_SENDS,
    dropRatio: config.ALERT_DROP_RATIO,
    onChange: (a, open) => metrics.alertChanges.inc({ service: a.serviceId, country: metrics.country(a.country), channel: a.channel, metric: a.metric, change: open ? "raised" : "cleared" }),
  });
  metrics.openAlertsGauge(() => alerts.openAlerts);
  // The retention: one instance at a time deletes and anonymizes what is past its horizon, in small batches.
  const purger = new Purger({
    store: database.retention,
    consent: database.consent,
    services: () => store.listServices(),
    numberKey,
    clock,
    log,
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
    batch: config.PURGE_BATCH,
    policy: {
      numbersMs: config.RETENTION_NUMBERS,
      rawMs: config.RETENTION_RAW,
      rollupsMs: config.RETENTION_ROLLUPS,
      finishedJobsMs: config.RETENTION_FINISHED_JOBS,
      consentMs: config.CONSENT_RETENTION_DAYS * 86_400_000,
      // A detector bucket counts while a read reaches back to it: the longest signal window, or the pumping
      // detector's baseline before its burst window (risk/detector-rules.ts), and one bucket more.
      countersMs:
        Math.max(...Object.values(SIGNALS).map((sig) => sig.windowMs), detector.windows.windowMs + detector.windows.baselineMs, detector.windows.surgeMs) + COUNTER_BUCKET_MS,
    },
    onRun: (report) => metrics.purged(report),
  });
  if (database.rebuiltForIncrementalVacuum) log.info("store: the SQLite file was rebuilt once (VACUUM) so the purger can hand freed space back");
  const services: AppServices = { store, clock, log, services: serviceAdmin, lifecycle, apiKeys, outbox, limits: limitsAdmin, fraud: fraudAdmin, stats, decisionLog, watcher, approvals, consent, webhooks, alerts, privacy, retention: new RetentionAdmin({ services: serviceAdmin, purger, dialect: database.dialect }) };
  gaugeOf(metrics, "verify_guard_open_subscriptions", "GraphQL subscriptions streaming in this process.", openStreams);
  const schema = await buildVerifySchema(pubSub);
  // /metrics: on METRICS_PORT alone when set; else on the main port, behind METRICS_TOKEN when set,
  // and not at all in production without one (a scrape would show every service's traffic).
  const metricsOnMainPort = config.METRICS_PORT === undefined && (config.METRICS_TOKEN !== undefined || config.NODE_ENV !== "production");
  if (config.METRICS_PORT === undefined && !metricsOnMainPort) log.warn("metrics: /metrics is off (production without METRICS_TOKEN or METRICS_PORT)");
  const metricsServer = config.METRICS_PORT === undefined ? null : createMetricsServer({ metrics, token: config.METRICS_TOKEN ?? null, log });
  const clientIp = new ClientIpResolver(config.trustProxy);
  // DEMO_PAGE: the Demo service and its publishable key, made on the first start.
  const demo = config.demoPage ? await ensureDemoService({ dataDir: config.dataDir, services: serviceAdmin, apiKeys, log }) : null;
  const bundles = loadWebBundles();
  const http = createHttpServer({
    schema,
    app: services,
    clientIp,
    // Depth and cost limits per role, checked before any resolver runs, over HTTP and WebSocket alike.
    costLimits: {
      ADMIN: { maxDepth: config.GRAPHQL_MAX_DEPTH, maxComplexity: config.GRAPHQL_MAX_COMPLEXITY },
      CLIENT: { maxDepth: config.GRAPHQL_MAX_DEPTH, maxComplexity: Math.min(config.GRAPHQL_CLIENT_MAX_COMPLEXITY, config.GRAPHQL_MAX_COMPLEXITY) },
    },
    introspection: config.INTROSPECTION,
    // WebSocket and subscription counts: in Redis when REDIS_URL is set, so the limits hold across instances.
    slots: redis ? new RedisSlots(redis.client, redis.prefix, log) : new MemorySlots(),
    wsLimits: {
      subscriptionsPerKey: config.WS_MAX_SUBSCRIPTIONS_PER_KEY,
      subscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      socketsPerKey: config.WS_MAX_SOCKETS_PER_KEY,
      socketsPerIp: config.WS_MAX_SOCKETS_PER_IP,
    },
    origins: createOriginPolicy(config.CORS_ORIGINS, config.PUBLIC_URL),
    // The development outbox panel shows codes: only with the outbox, never in production.
    pages: (router) => mountPages(router, { bundles, app: services, demo, outboxPanel: outbox !== null && config.NODE_ENV !== "production" }),
    ready: async () => {
      await database.ping();
      await redis?.ping();
      // The store's size and its last purge (read at most every few seconds; no error text: /readyz is public).
      const st = await purger.status();
      return { store: { dialect: database.dialect, bytes: st.bytes, freeBytes: st.freeBytes, lastPurge: st.lastRun && { at: new Date(st.lastRun.finishedAt).toISOString(), ms: st.lastRun.finishedAt - st.lastRun.startedAt, ok: st.lastRun.error === null } } };
    },
    onResponse: (route, method, status, seconds) => metrics.httpSeconds.observe({ route, method, status: String(status) }, seconds),
    routes: (router) => {
      // The Twilio-compatible REST API (Verify v2): the same domain as GraphQL behind Twilio's wire format.
      router.use("/v2", createRestRouter({ app: services, clientIp, publicUrl: config.PUBLIC_URL }));
      // Twilio's status callbacks, when they can be verified (auth token) and were asked for (PUBLIC_URL).
      if (twilio?.statusCallbackUrl && config.TWILIO_AUTH_TOKEN && config.PUBLIC_URL) {
        mountTwilioWebhook(router, { authToken: config.TWILIO_AUTH_TOKEN, publicUrl: config.PUBLIC_URL, store, jobs: deliveryJobs, events: publisher, eventOutbox: webhooks, clock, log, metrics });
      }
      mountJwks(router, approvals, log);
      if (metricsOnMainPort) mountMetrics(router, { metrics, token: config.METRICS_TOKEN ?? null, log });
    },
  });
  await http.start();
  if (opts.deliveryWorker !== false) dispatcher.start();
  webhooks.start();
  // Delivery-rate alerts are judged on a timer (wall clock); each evaluation reads the injected clock.
  const alerting = setInterval(() => {
    alerts.evaluate().catch((err) => log.error("delivery alert evaluation failed", { error: String(err) }));
  }, config.ALERT_EVALUATE_SECONDS * 1000);
  alerting.unref();

  let sweeper: NodeJS.Timeout | undefined;
  if (opts.sweeper !== false) {
    sweeper = setInterval(() => {
      lifecycle.sweepExpired().catch((err) => log.error("expiry sweep failed", { error: String(err) }));
      approvals.sweep().catch((err) => log.error("approval redemption sweep failed", { error: String(err) }));
    }, config.EXPIRY_SWEEP_SECONDS * 1000);
    sweeper.unref();
  }
  // The retention (expired limiter windows and detector buckets, finished jobs, consent records past
  // CONSENT_RETENTION_DAYS, …): now and every PURGE_INTERVAL_SECONDS, by whichever instance holds the lease.
  if (opts.sweeper !== false) purger.start(config.PURGE_INTERVAL_SECONDS * 1000);

  return {
    config,
    services,
    pipeline,
    schema,
    pubSub,
    dispatcher,
    http,
    metrics,
    metricsServer,
    webhooks,
    alerts,
    purger,
    async listen(port = config.PORT, host = config.HOST) {
      if (metricsServer && !metricsServer.listening) {
        await new Promise<void>((resolve, reject) => {
          metricsServer.once("error", reject);
          metricsServer.listen(config.METRICS_PORT, config.METRICS_HOST, () => resolve());
        });
      }
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
      if (metricsServer?.listening) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      await http.stop();
      clearInterval(alerting);
      await dispatcher.stop();
      await webhooks.stop();
      await purger.stop();
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
