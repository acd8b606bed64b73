/**
 * Exponential backoff with full jitter (a uniformly random wait between 0
 * and the exponential cap): spreads retries of many clients apart instead of
 * synchronising them ("Exponential Backoff And Jitter", AWS Architecture Blog).
 */
export function fullJitterDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
