import type { ProtectionLevel, RiskSettings } from "../store/types.js";

/**
 * The thresholds of one level of the SMS-pumping detector's hierarchy (a prefix, or a wider range).
 * The unit is blocked when either rule holds:
 *  - burst: at least `minSends` sends in the window, more than `volumeMultiplier` times the unit's
 *    baseline for a window of that length, and approvals / sends below `maxConversion`;
 *  - sustained: at least `sustainedMinSends` sends over the baseline period (24 h) and approvals /
 *    sends below `sustainedMaxConversion` (a slow drip that never makes a burst).
 * Real people enter their codes; pumped numbers never do. So volume alone never blocks: a launch
 * that brings many real users to one prefix converts and passes.
 */
export interface DetectorThresholds {
  minSends: number;
  volumeMultiplier: number;
  maxConversion: number;
  sustainedMinSends: number;
  sustainedMaxConversion: number;
}

/**
 * The country level's thresholds. They adapt to the service's own history in that country
 * (risk/baselines.ts): the unconverted sends a window may hold before the country is judged are
 * `baselineScale` times the most converted sends the service saw there in one hour (one day, for the
 * sustained rule) over the last 14 days, and never fewer than the floor, which is all a new service,
 * or a country it never served, gets.
 *  - surge: unconverted sends in the last hour ≥ max(`floorPerHour`, `baselineScale` × busiest hour),
 *    with approvals / sends below `maxConversion`;
 *  - sustained: unconverted sends in the last 24 h ≥ max(`floorPerDay`, `baselineScale` × busiest
 *    day), with approvals / sends below `sustainedMaxConversion`.
 * Unconverted volume is what pumping leaves; a launch's users convert, so the conversion test keeps
 * them from ever being the trigger however many they are. The floors are the same for the hour and
 * the day: a new destination is judged on its first `floorPerHour` unconverted sends whether they
 * come in a burst or a drip; with a history, the hour's threshold follows the busiest hour and the
 * day's the busiest day.
 */
export interface CountryThresholds {
  floorPerHour: number;
  floorPerDay: number;
  baselineScale: number;
  maxConversion: number;
  sustainedMaxConversion: number;
}

/** The detector at one protection level: its three levels of judgement. */
export interface DetectorLevels {
  /** One prefix: calling code and 3 national digits. */
  prefix: DetectorThresholds;
  /** A wider range: calling code and 2 national digits (ten prefixes). */
  range: DetectorThresholds;
  /** A whole destination country, with thresholds from the service's own history. */
  country: CountryThresholds;
}

/** Everything a protection level scales. */
export interface LevelSettings {
  /** The pumping detector's rules at each level of the hierarchy. */
  detector: DetectorLevels;
  /**
   * Multiplies the signals' count thresholds (`risk/signals.ts` holds them at STANDARD): above 1 the
   * signals tolerate more before they fire, below 1 they fire sooner. Rounded, never below 2.
   */
  signalScale: number;
}

/**
 * Protection levels, as Twilio's Fraud Guard names them. STANDARD (the default) stops a pumping
 * burst after 10 sends to one prefix; BASIC tolerates more before judging (fewer false positives),
 * MAX judges sooner and at a higher conversion (more protection, more false positives). The level
 * scales every level of the detector and the behavioural signals alike.
 */
export const PROTECTION_LEVELS: Readonly<Record<ProtectionLevel, LevelSettings>> = {
  BASIC: {
    detector: {
      prefix: { minSends: 25, volumeMultiplier: 10, maxConversion: 0.05, sustainedMinSends: 100, sustainedMaxConversion: 0.05 },
      range: { minSends: 40, volumeMultiplier: 10, maxConversion: 0.05, sustainedMinSends: 150, sustainedMaxConversion: 0.05 },
      country: { floorPerHour: 50, floorPerDay: 50, baselineScale: 4, maxConversion: 0.05, sustainedMaxConversion: 0.05 },
    },
    signalScale: 2,
  },
  STANDARD: {
    detector: {
      prefix: { minSends: 10, volumeMultiplier: 5, maxConversion: 0.2, sustainedMinSends: 40, sustainedMaxConversion: 0.1 },
      range: { minSends: 15, volumeMultiplier: 5, maxConversion: 0.2, sustainedMinSends: 60, sustainedMaxConversion: 0.1 },
      country: { floorPerHour: 20, floorPerDay: 20, baselineScale: 2, maxConversion: 0.2, sustainedMaxConversion: 0.1 },
    },
    signalScale: 1,
  },
  MAX: {
    detector: {
      prefix: { minSends: 5, volumeMultiplier: 3, maxConversion: 0.35, sustainedMinSends: 20, sustainedMaxConversion: 0.2 },
      range: { minSends: 8, volumeMultiplier: 3, maxConversion: 0.35, sustainedMinSends: 30, sustainedMaxConversion: 0.2 },
      country: { floorPerHour: 10, floorPerDay: 10, baselineScale: 1, maxConversion: 0.35, sustainedMaxConversion: 0.2 },
    },
    signalScale: 0.5,
  },
};

export const DEFAULT_PROTECTION_LEVEL: ProtectionLevel = "STANDARD";

/** The service's protection level (STANDARD unless an admin chose another). */
export function levelOf(ctx: { service: { riskSettings: RiskSettings } }): ProtectionLevel {
  return ctx.service.riskSettings.protectionLevel ?? DEFAULT_PROTECTION_LEVEL;
}

/** A signal's count threshold at `level`: the STANDARD value scaled, rounded, at least 2. */
export function scaledCount(standard: number, level: ProtectionLevel): number {
  return Math.max(2, Math.round(standard * PROTECTION_LEVELS[level].signalScale));
}
