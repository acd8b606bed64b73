import { describe, expect, it } from '@jest/globals';
import { checkIdToken } from './id-token.js';

const TID = '8eaef023-2b34-4da1-9baa-8bc8c9d6a490';
const now = new Date('2026-11-25T10:00:00Z');
const jwt = (claims: Record<string, unknown>) =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const good = {
  iss: `https://login.microsoftonline.com/${TID}/v2.0`,
  aud: 'client',
  tid: TID,
  oid: 'o',
  sub: 's',
  exp: now.getTime() / 1000 + 600,
};
const expected = {
  issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
  clientId: 'client',
  now,
};

describe('checkIdToken', () => {
  it('accepts the tenant-specific issuer of a multi-tenant template, and keeps string claims', () => {
    expect(checkIdToken(jwt(good), expected)).toMatchObject({ tid: TID, oid: 'o', sub: 's' });
  });

  it.each([
    [
      'another tenant in the issuer',
      { ...good, iss: 'https://login.microsoftonline.com/other/v2.0' },
    ],
    [
      'a tenant id that is not a GUID',
      { ...good, tid: 'common', iss: 'https://login.microsoftonline.com/common/v2.0' },
    ],
    ['another audience', { ...good, aud: 'someone-else' }],
    ['an expired token', { ...good, exp: now.getTime() / 1000 - 120 }],
    ['no subject', { ...good, sub: undefined }],
  ])('refuses %s', (_what, claims) => {
    expect(() => checkIdToken(jwt(claims), expected)).toThrow(
      expect.objectContaining({ code: 'provider_response_invalid' }),
    );
  });

  it('refuses what is not a JWT', () => {
    expect(() => checkIdToken('not-a-jwt', expected)).toThrow(/not a JWT/);
  });
});
