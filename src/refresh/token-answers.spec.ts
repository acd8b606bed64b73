import { beforeAll, describe, expect, it } from '@jest/globals';
import sodium from 'libsodium-wrappers';
import type { TokenSet } from '../connections/connection.js';
import { tokenAnswer, TokenAnswers } from './token-answers.js';

const tokens = {
  accessToken: 'at-secret-4f1d',
  refreshToken: 'rt-secret-9c2a',
  tokenType: 'Bearer',
  expiresAt: new Date('2026-12-05T10:00:00.000Z'),
  scopes: ['contacts.read', 'crm.objects.contacts.read'],
  extras: { instance_url: 'https://example.my.salesforce.com', 'quo"te': 'a\nb' },
} as unknown as TokenSet;

describe('TokenAnswers', () => {
  beforeAll(async () => {
    await sodium.ready;
  });

  it('opens to exactly the JSON of tokenAnswer, with the clamp as its last field', () => {
    const answers = new TokenAnswers();
    const memo = answers.remember({}, tokens, 'k1:fp');
    expect(answers.open(memo)).toBe(JSON.stringify(tokenAnswer(tokens)));
    expect(answers.open(memo, 3_240)).toBe(JSON.stringify(tokenAnswer(tokens, 3_240)));
    expect(JSON.parse(answers.open(memo, 0))).toEqual({
      ...tokenAnswer(tokens),
      minValidityClampedTo: 0,
    });
    expect(memo.expiresAt).toEqual(tokens.expiresAt);
    expect(memo.fingerprint).toBe('k1:fp');
  });

  it('never holds the refresh token, and the access token only sealed', () => {
    const answers = new TokenAnswers();
    const memo = answers.remember({}, tokens, 'k1:fp');
    expect(answers.open(memo)).not.toContain('rt-secret');
    const stored = Buffer.from(memo.sealed).toString('latin1');
    expect(stored).not.toContain('at-secret');
    expect(stored).not.toContain('contacts.read');
    // Two seals of the same answer differ (a fresh nonce each).
    expect(Buffer.from(answers.remember({}, tokens, 'k1:fp').sealed)).not.toEqual(
      Buffer.from(memo.sealed),
    );
  });

  it('keys memos by the credential object, and another process (key) cannot open them', () => {
    const answers = new TokenAnswers();
    const credential = {};
    expect(answers.of(credential)).toBeUndefined();
    const memo = answers.remember(credential, tokens, 'k1:fp');
    expect(answers.of(credential)).toBe(memo);
    // A refresh seals a new credential object: no memo until it is read.
    expect(answers.of({})).toBeUndefined();
    const other = new TokenAnswers();
    other.remember({}, tokens, 'k1:fp');
    expect(() => other.open(memo)).toThrow();
    // A tampered memo does not authenticate.
    const tampered = { ...memo, sealed: Uint8Array.from(memo.sealed) };
    tampered.sealed[tampered.sealed.length - 1]! ^= 1;
    expect(() => answers.open(tampered)).toThrow();
  });
});
