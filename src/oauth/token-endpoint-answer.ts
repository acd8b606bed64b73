import { isTransientStatus } from '../common/http/provider-outcome.js';
import { ProviderError } from '../common/errors/app-error.js';
import { readPath } from '../common/json-path.js';
import { parseRetryAfter } from '../common/http/retry-after.js';
import type { TokenErrorRule } from '../providers/provider-definition.js';

export type TokenFailureMeaning = 'dead_grant' | 'client_rejected' | 'transient' | 'other';

/** Error codes that are not the user's grant but the app's own credentials (RFC 6749 §5.2). */
const CLIENT_ERRORS = new Set(['invalid_client', 'unauthorized_client']);
/** Codes some providers send at the token endpoint for a passing outage. */
const TRANSIENT_ERRORS = new Set(['temporarily_unavailable', 'server_error']);

/**
 * What a failed token endpoint answer means: the provider's own rules first
 * (answers that are not RFC 6749, like HubSpot's `BAD_REFRESH_TOKEN` or
 * Zoho's HTTP 200 `{"error":"invalid_code"}`), then RFC 6749 §5.2.
 */
export function meaningOf(
  rules: readonly TokenErrorRule[],
  status: number,
  body: unknown,
): { meaning: TokenFailureMeaning; providerError?: string } {
  for (const rule of rules) {
    if (rule.status !== undefined && rule.status !== status) continue;
    if (readPath(body, rule.bodyPath) === rule.equals)
      return { meaning: rule.means, providerError: rule.equals };
  }
  const error = readPath(body, 'error');
  const code = typeof error === 'string' ? error : undefined;
  if (code === 'invalid_grant') return { meaning: 'dead_grant', providerError: code };
  if (code && CLIENT_ERRORS.has(code)) return { meaning: 'client_rejected', providerError: code };
  if ((code && TRANSIENT_ERRORS.has(code)) || isTransientStatus(status))
    return { meaning: 'transient', providerError: code };
  return { meaning: 'other', providerError: code };
}

/** Whether a token endpoint answer is a failure, even with a 2xx status. */
export function isFailedAnswer(
  rules: readonly TokenErrorRule[],
  status: number,
  body: unknown,
): boolean {
  if (status < 200 || status >= 300) return true;
  const hasToken = typeof readPath(body, 'access_token') === 'string';
  if (hasToken) return false;
  // RFC 6749 §5.1 success always carries access_token; an `error` (or a
  // provider rule matching a 2xx answer) without one is a failure in disguise.
  if (typeof readPath(body, 'error') === 'string') return true;
  return rules.some(
    (rule) => rule.status === status && readPath(body, rule.bodyPath) === rule.equals,
  );
}

/**
 * The ProviderError for a failed token endpoint answer. Only the provider's
 * error code is kept, never its description, which may echo request data.
 */
export function tokenAnswerError(
  rules: readonly TokenErrorRule[],
  status: number,
  body: unknown,
  headers: Headers,
  operation: string,
  now: Date,
): ProviderError {
  const { meaning, providerError } = meaningOf(rules, status, body);
  const detail = { providerStatus: status, providerError };
  switch (meaning) {
    case 'dead_grant':
      return new ProviderError(
        'grant_rejected',
        `The provider rejected the grant during ${operation}`,
        { ...detail, transient: false },
      );
    case 'client_rejected':
      return new ProviderError(
        'client_rejected',
        `The provider rejected this integration's client credentials during ${operation}`,
        { ...detail, transient: false },
      );
    case 'transient':
      return new ProviderError(
        status === 429 ? 'provider_rate_limited' : 'provider_unavailable',
        `The provider answered ${status} during ${operation}`,
        {
          ...detail,
          transient: true,
          retryAfterSeconds: parseRetryAfter(headers.get('retry-after'), now),
        },
      );
    case 'other':
      return new ProviderError(
        'provider_error',
        `The provider answered ${status} during ${operation}`,
        { ...detail, transient: false },
      );
  }
}
