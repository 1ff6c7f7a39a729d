import type { ProtectionLevel, RiskSettings } from "../store/types.js";

/**
 * The thresholds of the SMS-pumping detector for one protection level. A prefix is auto-blocked
 * when either rule holds:
 *  - burst: at least `minSends` sends in the window, more than `volumeMultiplier` times the
 *    prefix's baseline for a window of that length, and approvals / sends below `maxConversion`;
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

/** Everything a protection level scales. */
export interface LevelSettings {
  /** The pumping detector's prefix rules. */
  detector: DetectorThresholds;
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
 * scales the detector and the behavioural signals alike.
 */
export const PROTECTION_LEVELS: Readonly<Record<ProtectionLevel, LevelSettings>> = {
  BASIC: { detector: { minSends: 25, volumeMultiplier: 10, maxConversion: 0.05, sustainedMinSends: 100, sustainedMaxConversion: 0.05 }, signalScale: 2 },
  STANDARD: { detector: { minSends: 10, volumeMultiplier: 5, maxConversion: 0.2, sustainedMinSends: 40, sustainedMaxConversion: 0.1 }, signalScale: 1 },
  MAX: { detector: { minSends: 5, volumeMultiplier: 3, maxConversion: 0.35, sustainedMinSends: 20, sustainedMaxConversion: 0.2 }, signalScale: 0.5 },
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
