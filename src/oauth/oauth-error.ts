import { providerStatusError } from '../common/http/provider-outcome.js';
import * as client from 'openid-client';
import { ProviderError } from '../common/errors/app-error.js';
import { ResponseTooLargeError } from '../infra/http/guarded-fetch.js';
import { meaningOf } from './token-endpoint-answer.js';

/** The grant itself is dead (RFC 6749 §5.2 `invalid_grant`, or the provider's own code): the user must reconnect. */
export function isDeadGrant(error: unknown): boolean {
  return error instanceof ProviderError && error.code === 'grant_rejected';
}

/**
 * The provider refused the integration's own client credentials
 * (`invalid_client`, `unauthorized_client`: a rotated secret, a suspended
 * app). No user's grant is at fault; every connection of the integration
 * waits for the operator.
 */
export function isClientRejected(error: unknown): boolean {
  return error instanceof ProviderError && error.code === 'client_rejected';
}

/**
 * Turns whatever openid-client threw into a ProviderError that says whether
 * the failure is worth retrying. Token endpoint answers are classified
 * before openid-client sees them (OAuthConfigurations); this covers the
 * rest (discovery, revocation, network). Only the provider's error code is
 * kept, never its description, which may echo request data.
 */
export function classifyOAuthError(error: unknown, operation: string, now: Date): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof client.ResponseBodyError) {
    const { meaning } = meaningOf([], error.status, { error: error.error });
    if (meaning === 'dead_grant' || meaning === 'client_rejected') {
      return new ProviderError(
        meaning === 'dead_grant' ? 'grant_rejected' : 'client_rejected',
        `The provider rejected the ${meaning === 'dead_grant' ? 'grant' : 'client'} during ${operation}`,
        { providerStatus: error.status, providerError: error.error, transient: false },
      );
    }
    return fromStatus(error.status, error.response, operation, now, error.error, error);
  }
  if (error instanceof client.ClientError) {
    // Our own classification, thrown from inside openid-client's fetch.
    if (error.cause instanceof ProviderError) return error.cause;
    if (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT') {
      return new ProviderError(
        'provider_timeout',
        `The provider did not answer in time during ${operation}`,
        { transient: true },
        { cause: error },
      );
    }
    if (isNetworkFailure(error.cause)) return classifyOAuthError(error.cause, operation, now);
    if (error.cause instanceof Response) {
      return fromStatus(error.cause.status, error.cause, operation, now, undefined, error);
    }
    if (error.cause instanceof ResponseTooLargeError) {
      return new ProviderError(
        'provider_response_invalid',
        `The provider's answer was too large during ${operation}`,
        { transient: false },
        { cause: error },
      );
    }
    return new ProviderError(
      'provider_response_invalid',
      `The provider's answer failed validation during ${operation}`,
      { transient: false },
      { cause: error },
    );
  }
  if (isNetworkFailure(error)) {
    return new ProviderError(
      'provider_unreachable',
      `The provider could not be reached during ${operation}`,
      { transient: true },
      { cause: error },
    );
  }
  return new ProviderError(
    'provider_error',
    `The provider call failed during ${operation}`,
    { transient: false },
    { cause: error },
  );
}

function fromStatus(
  status: number,
  response: Response | undefined,
  operation: string,
  now: Date,
  providerError: string | undefined,
  cause: unknown,
): ProviderError {
  return providerStatusError({
    status,
    retryAfter: response?.headers.get('retry-after'),
    now,
    message: `The provider answered ${status} during ${operation}`,
    providerError,
    cause,
  });
}

/**
 * fetch() signals refused, reset and DNS failures with a TypeError, and its
 * own timeouts with a TimeoutError; compared by name, because the error may
 * come from another realm (a TypeError of Node's fetch is not `instanceof`
 * the TypeError of a VM context, as under Jest).
 */
function isNetworkFailure(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return (
    (name === 'TypeError' && message === 'fetch failed') ||
    name === 'TimeoutError' ||
    name === 'AbortError'
  );
}
