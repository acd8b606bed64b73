import { describe, expect, it } from '@jest/globals';
import type { TokenErrorRule } from '../providers/provider-definition.js';
import { isFailedAnswer, meaningOf, tokenAnswerError } from './token-endpoint-answer.js';

const now = new Date('2026-11-25T10:00:00Z');
// Zoho's dead refresh token comes back as HTTP 200 (the part-2 case the rules are for).
const zoho: TokenErrorRule[] = [
  { status: 200, bodyPath: 'error', equals: 'invalid_code', means: 'dead_grant' },
];
// HubSpot's legacy body carries no RFC 6749 `error`, only `status`.
const hubspot: TokenErrorRule[] = [
  { bodyPath: 'status', equals: 'BAD_REFRESH_TOKEN', means: 'dead_grant' },
  { bodyPath: 'status', equals: 'BAD_CLIENT_ID', means: 'client_rejected' },
];

describe('token endpoint answers', () => {
  it('a 2xx with an access token is a success; with an error and no token, a failure', () => {
    expect(isFailedAnswer([], 200, { access_token: 'a', token_type: 'bearer' })).toBe(false);
    expect(isFailedAnswer([], 200, { error: 'invalid_code' })).toBe(true);
    expect(isFailedAnswer([], 400, { error: 'invalid_grant' })).toBe(true);
    expect(isFailedAnswer([], 200, 'not json')).toBe(false);
  });

  it('provider rules come first, then RFC 6749 §5.2', () => {
    expect(meaningOf(zoho, 200, { error: 'invalid_code' })).toEqual({
      meaning: 'dead_grant',
      providerError: 'invalid_code',
    });
    expect(meaningOf(hubspot, 400, { status: 'BAD_REFRESH_TOKEN', message: 'x' }).meaning).toBe(
      'dead_grant',
    );
    expect(meaningOf(hubspot, 400, { status: 'BAD_CLIENT_ID' }).meaning).toBe('client_rejected');
    expect(meaningOf([], 400, { error: 'invalid_grant' }).meaning).toBe('dead_grant');
    expect(meaningOf([], 401, { error: 'invalid_client' }).meaning).toBe('client_rejected');
    expect(meaningOf([], 400, { error: 'unauthorized_client' }).meaning).toBe('client_rejected');
    expect(meaningOf([], 400, { error: 'temporarily_unavailable' }).meaning).toBe('transient');
    expect(meaningOf([], 502, '<html>').meaning).toBe('transient');
    expect(meaningOf([], 400, { error: 'invalid_scope' }).meaning).toBe('other');
  });

  it('the error keeps the provider code and Retry-After, never the description', () => {
    const limited = tokenAnswerError(
      [],
      429,
      { error: 'slow_down', error_description: 'refresh_token=rt-secret' },
      new Headers({ 'retry-after': '7' }),
      'token refresh',
      now,
    );
    expect(limited).toMatchObject({ code: 'provider_rate_limited' });
    expect(limited.detail).toMatchObject({ transient: true, retryAfterSeconds: 7 });
    expect(limited.message).not.toContain('rt-secret');
    const dead = tokenAnswerError(zoho, 200, { error: 'invalid_code' }, new Headers(), 'x', now);
    expect(dead.code).toBe('grant_rejected');
    const client = tokenAnswerError([], 401, { error: 'invalid_client' }, new Headers(), 'x', now);
    expect(client.code).toBe('client_rejected');
  });
});
