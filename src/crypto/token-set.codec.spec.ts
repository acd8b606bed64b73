import { describe, expect, it } from '@jest/globals';
import { decodeTokenSet, encodeTokenSet, MalformedTokenSetError } from './token-set.codec.js';

const tokens = {
  accessToken: 'at-1',
  refreshToken: 'rt-1',
  tokenType: 'Bearer',
  expiresAt: new Date('2026-12-05T10:00:00.000Z'),
  scopes: ['contacts.read'],
  extras: { instance_url: 'https://example.my.salesforce.com' },
};

describe('token set codec', () => {
  it('round-trips, with and without a refresh token', () => {
    expect(decodeTokenSet(encodeTokenSet(tokens))).toEqual(tokens);
    const { refreshToken: _, ...noRefresh } = tokens;
    const decoded = decodeTokenSet(encodeTokenSet(noRefresh));
    expect(decoded).toEqual(noRefresh);
    expect('refreshToken' in decoded).toBe(false);
  });

  it.each([
    ['another format version', { v: 2 }],
    ['no access token', { accessToken: undefined }],
    ['an empty access token', { accessToken: '' }],
    ['an empty refresh token', { refreshToken: '' }],
    ['a numeric token type', { tokenType: 1 }],
    ['an unparseable expiry', { expiresAt: 'soon' }],
    ['scopes that are not strings', { scopes: [1] }],
    ['extras that are not strings', { extras: { a: 1 } }],
    ['extras as an array', { extras: [] }],
  ])('refuses a payload with %s', (_label, change) => {
    const payload = { ...JSON.parse(encodeTokenSet(tokens)), ...change };
    expect(() => decodeTokenSet(JSON.stringify(payload))).toThrow(MalformedTokenSetError);
  });

  it('refuses JSON that is not an object', () => {
    expect(() => decodeTokenSet('null')).toThrow(MalformedTokenSetError);
    expect(() => decodeTokenSet('[]')).toThrow(MalformedTokenSetError);
  });
});
