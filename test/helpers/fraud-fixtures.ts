import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../src/clock.js";
import type { VerificationEvent } from "../../src/events/types.js";
import { parsePhone } from "../../src/phone.js";
import { numberKeyer, type NumberKey } from "../../src/risk/number-key.js";
import { PumpingDetector } from "../../src/risk/pumping-detector.js";
import { RiskPipeline } from "../../src/risk/pipeline.js";
import { phoneStage } from "../../src/risk/stages/phone.js";
import type { RiskContext, RiskObserver, RiskRequest, RiskStage } from "../../src/risk/types.js";
import { SqlFraudStore } from "../../src/store/queries/fraud.js";
import { SqlStore } from "../../src/store/queries/store.js";
import { SqlWindowCounter } from "../../src/store/queries/window-counter.js";
import { SqliteDb } from "../../src/store/sql/sqlite.js";
import type { BlockedPrefixRow } from "../../src/store/fraud.js";
import type { RiskSettings, ServiceRow } from "../../src/store/types.js";
import { SERVICE_DEFAULTS, Services } from "../../src/verification/services.js";

/**
 * The real fraud stores on a fresh SQLite file, a manual clock and one service: what the fraud
 * stages' unit tests run against (no stand-ins for the stores).
 */
export interface FraudFixture {
  clock: ManualClock;
  store: SqlStore;
  fraud: SqlFraudStore;
  counter: SqlWindowCounter;
  /** The database the stores share (for other stores of it, e.g. statistics). */
  db: SqliteDb;
  detector: PumpingDetector;
  services: Services;
  service: ServiceRow;
  dbFile: string;
  /** What the detector published (AUTO_BLOCKED events), oldest first. */
  events: VerificationEvent[];
  /** The keyed number hash the app derives from its CODE_SECRET (here from a test secret). */
  numberKey: NumberKey;
  /** Another service on the same database. */
  addService(riskSettings?: RiskSettings): Promise<ServiceRow>;
  /** A pipeline of the phone stage followed by `stages`, with `observers`. */
  pipeline(stages: RiskStage[], observers?: RiskObserver[]): RiskPipeline;
  close(): Promise<void>;
}

export async function fraudFixture(riskSettings: RiskSettings = {}): Promise<FraudFixture> {
  const dir = mkdtempSync(join(tmpdir(), "vg-fraud-"));
  const dbFile = join(dir, "verify.db");
  const clock = new ManualClock();
  const db = new SqliteDb(dbFile);
  const store = new SqlStore(db);
  const fraud = new SqlFraudStore(db);
  const counter = new SqlWindowCounter(db);
  const events: VerificationEvent[] = [];
  const detector = new PumpingDetector({ counter, store: fraud, events: { publish: (e) => void events.push(e) } });
  const services = new Services(store, clock);
  const addService = async (rs: RiskSettings = {}) => {
    const row: ServiceRow = {
      id: `VA${Math.random().toString(16).slice(2).padEnd(32, "0").slice(0, 32)}`,
      friendlyName: "Acme",
      ...SERVICE_DEFAULTS,
      smsTemplate: null,
      riskSettings: rs,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    };
    await store.insertService(row);
    return row;
  };
  const service = await addService(riskSettings);
  return {
    clock,
    store,
    fraud,
    counter,
    db,
    detector,
    services,
    service,
    dbFile,
    events,
    numberKey: numberKeyer("fraud-fixture-secret-0123456789abcdef0123"),
    addService,
    pipeline: (stages, observers = []) => new RiskPipeline([phoneStage, ...stages], clock, observers, counter),
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An AUTO block as the detector writes one (a prefix burst by default), for tests that place one by hand. */
export function autoBlockRow(over: Partial<BlockedPrefixRow> & Pick<BlockedPrefixRow, "serviceId" | "prefix" | "createdAt" | "expiresAt">): BlockedPrefixRow {
  return { country: null, source: "AUTO", reason: "detector", level: "PREFIX", rule: "burst", figures: { sends: 10 }, updatedAt: over.createdAt, ...over };
}

/** A START request as the lifecycle builds it (admin caller, SMS, risk checks on). */
export function startRequest(service: ServiceRow, to: string, over: Partial<RiskRequest> = {}): RiskRequest {
  return { kind: "START", service, rawTo: to, channel: "SMS", ip: "203.0.113.7", role: "ADMIN", riskCheck: true, tags: {}, rateLimitValues: {}, ...over };
}

/** The context a stage sees once the phone stage has run on `req` (to test one stage alone). */
export function stageContext(req: RiskRequest, now: number): RiskContext {
  const parsed = parsePhone(req.rawTo, req.countryHint);
  if (!parsed.ok) throw new Error(parsed.reason);
  return { ...req, now, retry: 0, shadow: [], phone: parsed.phone };
}

/** A CHECK request for `to`. */
export function checkRequest(service: ServiceRow, to: string, over: Partial<RiskRequest> = {}): RiskRequest {
  return { ...startRequest(service, to, over), kind: "CHECK", channel: "SMS", ...over };
}

/**
 * `count` valid, distinct numbers under one prefix, spread out (not sequential) so only the prefix
 * detector, not the sequential-number signal, sees them as related. `base` is a valid number whose
 * last `free` digits are varied.
 */
export function numbersUnder(base: string, count: number, free = 4): string[] {
  const head = base.slice(0, base.length - free);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(head + String((i * 7919 + 1234) % 10 ** free).padStart(free, "0"));
  return out;
}
