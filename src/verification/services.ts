import { assertText, TEXT_LIMITS } from "../text-rules.js";
import type { Clock } from "../clock.js";
import { AppError, invalidParameter } from "../errors.js";
import { newSid } from "../ids.js";
import type { RiskSettings, ServiceRow, Store } from "../store/types.js";

/** Settings a service is created or updated with; absent fields take Twilio's defaults. */
export interface ServiceSettings {
  friendlyName?: string;
  codeLength?: number;
  ttlSeconds?: number;
  maxCheckAttempts?: number;
  maxSendAttempts?: number;
  customCodeEnabled?: boolean;
  skipSmsToLandlines?: boolean;
  smsEnabled?: boolean;
  callEnabled?: boolean;
  lookupEnabled?: boolean;
  psd2Enabled?: boolean;
  doNotShareWarningEnabled?: boolean;
  smsTemplate?: string | null;
  /** Refuse starts that bring no consent evidence (CONSENT_REQUIRED). */
  requireConsent?: boolean;
  riskSettings?: RiskSettings;
}

/** Twilio Verify's defaults. */
export const SERVICE_DEFAULTS = {
  codeLength: 6,
  ttlSeconds: 600,
  maxCheckAttempts: 5,
  maxSendAttempts: 5,
  customCodeEnabled: false,
  skipSmsToLandlines: false,
  smsEnabled: true,
  callEnabled: true,
  lookupEnabled: true,
  psd2Enabled: false,
  // Twilio's default is false; every text we send has carried the warning, and still does unless a service opts out.
  doNotShareWarningEnabled: true,
  requireConsent: false,
} as const;

function validate(s: ServiceSettings): void {
  const int = (field: keyof ServiceSettings, min: number, max: number) => {
    const v = s[field];
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw invalidParameter(field, `must be an integer from ${min} to ${max}`);
  };
  // Both reach the handset: no control or bidirectional formatting characters (text-rules.ts).
  assertText("friendlyName", s.friendlyName, { min: 1, max: TEXT_LIMITS.friendlyName, trim: true });
  int("codeLength", 4, 10);
  int("ttlSeconds", 30, 86_400);
  int("maxCheckAttempts", 1, 60);
  int("maxSendAttempts", 1, 60);
  if (s.smsTemplate != null) {
    if (!s.smsTemplate.includes("{code}")) throw invalidParameter("smsTemplate", "must contain {code}");
    assertText("smsTemplate", s.smsTemplate, { max: TEXT_LIMITS.template, multiline: true });
  }
}

/** Creating, changing and removing verification services (admin operations). */
export class Services {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(settings: ServiceSettings & { friendlyName: string }): Promise<ServiceRow> {
    validate(settings);
    const now = this.clock.now();
    const row: ServiceRow = {
      id: newSid("VA"),
      ...SERVICE_DEFAULTS,
      ...stripUndefined(settings),
      friendlyName: settings.friendlyName.trim(),
      smsTemplate: settings.smsTemplate ?? null,
      riskSettings: settings.riskSettings ?? {},
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertService(row);
    return row;
  }

  async update(id: string, settings: ServiceSettings): Promise<ServiceRow> {
    validate(settings);
    const patch = stripUndefined(settings);
    if (patch.friendlyName) patch.friendlyName = patch.friendlyName.trim();
    const row = await this.store.updateService(id, { ...patch, updatedAt: this.clock.now() });
    if (!row) throw new AppError("NOT_FOUND", "Service not found");
    return row;
  }

  /** Merges into the service's risk settings (used by the risk admin operations). */
  async updateRiskSettings(id: string, patch: Partial<RiskSettings>): Promise<ServiceRow> {
    const current = await this.get(id);
    return this.update(id, { riskSettings: { ...current.riskSettings, ...patch } });
  }

  async delete(id: string): Promise<boolean> {
    return this.store.deleteService(id);
  }

  async get(id: string): Promise<ServiceRow> {
    const row = await this.store.getService(id);
    if (!row) throw new AppError("NOT_FOUND", "Service not found");
    return row;
  }

  list(): Promise<ServiceRow[]> {
    return this.store.listServices();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
