/**
 * When to try a failed send again. Exponential backoff with "equal jitter": the n-th retry waits
 * between half and all of min(maxDelay, baseDelay * 2^(n-1)), so instances that failed together
 * (a Twilio 429 or outage hits every worker at once) do not come back in lockstep, yet each wait has
 * a floor. https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface RetryPolicy {
  /** Tries in all, the first included; then the job fails for good. @default 6 */
  maxAttempts: number;
  /** @default 2000 */
  baseDelayMs: number;
  /** @default 60000 */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 2_000, maxDelayMs: 60_000 };

/** Delay before the next try, after `attempts` tries failed (attempts >= 1). `random` in [0, 1). */
export function backoffDelay(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
