import { ProviderError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { parseRetryAfter } from './retry-after.js';

/**
 * What a provider's HTTP status means to us, decided here and nowhere else:
 * code paths branch on this, never on status arithmetic of their own.
 */
export type ProviderStatusOutcome =
  'ok' | 'unauthorized' | 'rate_limited' | 'unavailable' | 'refused';

/**
 * 408 (request timeout), 425 (too early) and every 5xx are worth retrying;
 * 429 too, after its Retry-After; anything else is the provider refusing
 * this request, and repeating it would be refused again.
 */
export function classifyProviderStatus(status: number): ProviderStatusOutcome {
  if (status >= 200 && status < 400) return 'ok';
  if (status === 401) return 'unauthorized';
  if (status === 429) return 'rate_limited';
  if (status === 408 || status === 425 || status >= 500) return 'unavailable';
  return 'refused';
}

export function isTransientStatus(status: number): boolean {
  const outcome = classifyProviderStatus(status);
  return outcome === 'rate_limited' || outcome === 'unavailable';
}

/**
 * The ProviderError for a failed answer: `provider_rate_limited`,
 * `provider_unavailable` (both transient, with the provider's Retry-After)
 * or `refusedCode` (`provider_error` unless the caller names its own).
 */
export function providerStatusError(options: {
  status: number;
  retryAfter: string | null | undefined;
  now: Date;
  message: string;
  providerError?: string;
  refusedCode?: ErrorCode;
  cause?: unknown;
}): ProviderError {
  const outcome = classifyProviderStatus(options.status);
  const transient = outcome === 'rate_limited' || outcome === 'unavailable';
  const code =
    outcome === 'rate_limited'
      ? 'provider_rate_limited'
      : outcome === 'unavailable'
        ? 'provider_unavailable'
        : (options.refusedCode ?? 'provider_error');
  return new ProviderError(
    code,
    options.message,
    {
      providerStatus: options.status,
      providerError: options.providerError,
      transient,
      retryAfterSeconds: parseRetryAfter(options.retryAfter, options.now),
    },
    { cause: options.cause },
  );
}
