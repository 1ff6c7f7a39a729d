import { invalidParameter } from "../errors.js";
import type { Services } from "../verification/services.js";
import { DAY_MS, type Purger, type ServiceRetention, type StoreStatus } from "./purger.js";

/** Longest horizon a service may set (10 years). */
const MAX_DAYS = 3650;

/** A service's horizons as they apply (its own, or the deployment's), in days. */
export interface EffectiveRetention {
  serviceId: string;
  numbersDays: number;
  rawDays: number;
  /** Whether the service set either itself. */
  own: boolean;
}

/** The retention's admin operations: the store's status, and a service's own horizons. */
export class RetentionAdmin {
  constructor(private readonly d: { services: Services; purger: Purger; dialect: "sqlite" | "postgres" }) {}

  async status(): Promise<StoreStatus & { dialect: "sqlite" | "postgres" }> {
    return { ...(await this.d.purger.status(0)), dialect: this.d.dialect };
  }

  get policy() {
    return this.d.purger.policy;
  }

  async get(serviceId: string): Promise<EffectiveRetention> {
    const s = await this.d.services.get(serviceId);
    const p = this.d.purger.policyOf(s);
    const own = (s.riskSettings.retention ?? {}) as ServiceRetention;
    return { serviceId, numbersDays: p.numbersMs / DAY_MS, rawDays: p.rawMs / DAY_MS, own: own.numbersDays !== undefined || own.rawDays !== undefined };
  }

  /** Sets (a number) or resets (null) each of the service's horizons; undefined leaves one as it is. */
  async set(serviceId: string, change: { numbersDays?: number | null; rawDays?: number | null }): Promise<EffectiveRetention> {
    const current = { ...((await this.d.services.get(serviceId)).riskSettings.retention as ServiceRetention | undefined) };
    for (const field of ["numbersDays", "rawDays"] as const) {
      const v = change[field];
      if (v === undefined) continue;
      if (v === null) delete current[field];
      else if (!Number.isInteger(v) || v < 1 || v > MAX_DAYS) throw invalidParameter(field, `must be a whole number of days from 1 to ${MAX_DAYS}, or null for the deployment's`);
      else current[field] = v;
    }
    await this.d.services.updateRiskSettings(serviceId, { retention: current });
    return this.get(serviceId);
  }
}
