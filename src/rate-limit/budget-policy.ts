import type { RateLimit } from '../providers/rate-limit.schema.js';
import type { RateObservation } from './rate-limit-headers.js';

/**
 * The sliding log keeps one entry per request in its window: a large budget
 * (a daily allocation) is kept as the same rate in a shorter window, with
 * `limit` a divisor of the original, so any original window still holds at
 * most `requests` (k whole short windows of at most limit/k each).
 */
export const MAX_LOG_ENTRIES = 1_000;

/**
 * Providers count a request when it arrives; ours leave a few milliseconds
 * after their slot, unevenly. Each window is this much longer, so a request
 * that left late never lands in the same provider window as the one `limit`
 * slots later.
 */
const ARRIVAL_GUARD_MS = 100;
const ARRIVAL_GUARD_SHARE = 0.1;

/** Requests kept back from what the provider says remains: other apps, and our own calls in flight. */
const MARGIN_SHARE = 0.1;
const MAX_LEARNED_MS = 86_400_000;

export interface SlidingWindow {
  limit: number;
  windowMs: number;
}

/** At most `limit` requests in any `windowMs`: the budget as the Lua script enforces it. */
export function slidingWindow(rate: RateLimit): SlidingWindow {
  let limit = Math.min(rate.requests, MAX_LOG_ENTRIES);
  while (rate.requests % limit !== 0) limit -= 1;
  const windowMs = (rate.perSeconds * 1000 * limit) / rate.requests;
  const guard = Math.min(ARRIVAL_GUARD_MS, windowMs * ARRIVAL_GUARD_SHARE);
  return { limit, windowMs: Math.ceil(windowMs + guard) };
}

/**
 * What an answer leaves the broker: `left` more requests for `forMs`, then
 * back to the configured budget alone. Near the provider's limit (`left` 0)
 * the broker stops until the window resets, or, for rolling windows, until
 * enough of it has aged out.
 */
export function learnedAllowance(
  observation: RateObservation,
  fallback: { limit?: number; windowMs?: number },
): { left: number; forMs: number } | undefined {
  if (observation.kind === 'stop') {
    return observation.retryAfterMs > 0
      ? { left: 0, forMs: Math.min(observation.retryAfterMs, MAX_LEARNED_MS) }
      : undefined;
  }
  const limit = observation.limit ?? fallback.limit;
  const windowMs = observation.windowMs ?? fallback.windowMs;
  const margin = limit ? Math.max(1, Math.ceil(limit * MARGIN_SHARE)) : 1;
  const left = observation.remaining - margin;
  let forMs = observation.resetMs ?? windowMs;
  if (left <= 0 && observation.resetMs === undefined && limit && windowMs)
    forMs = Math.ceil((windowMs * (1 - left)) / limit);
  if (!forMs || forMs <= 0) return undefined;
  return { left: Math.max(0, left), forMs: Math.min(forMs, MAX_LEARNED_MS) };
}
