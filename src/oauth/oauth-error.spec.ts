import { describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { classifyOAuthError, isClientRejected, isDeadGrant } from './oauth-error.js';

const now = new Date('2026-11-25T10:00:00Z');
const bodyError = (status: number, error: string, headers: Record<string, string> = {}) =>
  new client.ResponseBodyError('error', {
    cause: { error, error_description: 'echo of refresh_token=rt-secret' },
    response: new Response(null, { status, headers }),
  });

describe('classifyOAuthError', () => {
  it('invalid_grant is a dead grant', () => {
    const classified = classifyOAuthError(bodyError(400, 'invalid_grant'), 'token refresh', now);
    expect(isDeadGrant(classified)).toBe(true);
    expect(classified.detail).toMatchObject({
      transient: false,
      providerError: 'invalid_grant',
      providerStatus: 400,
    });
  });

  it.each(['invalid_client', 'unauthorized_client'])(
    '%s is the client, not the grant (RFC 6749 §5.2)',
    (error) => {
      const classified = classifyOAuthError(bodyError(401, error), 'token refresh', now);
      expect(isDeadGrant(classified)).toBe(false);
      expect(isClientRejected(classified)).toBe(true);
      expect(classified.detail).toMatchObject({ transient: false, providerError: error });
    },
  );

  it('5xx and 429 are transient, and Retry-After is kept', () => {
    const unavailable = classifyOAuthError(
      bodyError(503, 'temporarily_unavailable', { 'retry-after': '7' }),
      'x',
      now,
    );
    expect(unavailable.detail).toMatchObject({ transient: true, retryAfterSeconds: 7 });
    expect(unavailable.code).toBe('provider_unavailable');
    const limited = classifyOAuthError(
      bodyError(429, 'slow_down', { 'retry-after': 'Wed, 25 Nov 2026 10:00:30 GMT' }),
      'x',
      now,
    );
    expect(limited.code).toBe('provider_rate_limited');
    expect(limited.detail.retryAfterSeconds).toBe(30);
    expect(isDeadGrant(limited)).toBe(false);
  });

  it('a non-JSON error page is classified by its status', () => {
    const error = new client.ClientError('unexpected HTTP response status code', {
      cause: new Response('<html>', { status: 502 }),
    });
    expect(classifyOAuthError(error, 'x', now).detail.transient).toBe(true);
  });

  it('timeouts and network failures are transient', () => {
    const timeout = Object.assign(new client.ClientError('operation timed out'), {
      code: 'OAUTH_TIMEOUT',
    });
    expect(classifyOAuthError(timeout, 'x', now).code).toBe('provider_timeout');
    expect(classifyOAuthError(new TypeError('fetch failed'), 'x', now).detail.transient).toBe(true);
    const wrapped = new client.ClientError('something went wrong', {
      cause: new TypeError('fetch failed'),
    });
    expect(classifyOAuthError(wrapped, 'x', now).code).toBe('provider_unreachable');
    expect(
      classifyOAuthError(new TypeError('x is not a function'), 'x', now).detail.transient,
    ).toBe(false);
  });

  it('never copies the provider description (which may echo secrets) into the message', () => {
    const classified = classifyOAuthError(bodyError(400, 'invalid_request'), 'token refresh', now);
    expect(classified.message).not.toContain('rt-secret');
    expect(classified.detail.transient).toBe(false);
  });
});
