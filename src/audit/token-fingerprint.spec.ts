import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Secret } from '../common/secret.js';
import type { AppConfig } from '../config/app-config.js';
import { TokenFingerprint } from './token-fingerprint.js';

function fingerprinter(keyId = 'k1', key = randomBytes(32)): TokenFingerprint {
  return new TokenFingerprint({
    encryptionKeys: [{ id: keyId, key: new Secret(new Uint8Array(key)) }],
  } as unknown as AppConfig);
}

describe('TokenFingerprint', () => {
  it('names its key, is stable for a token and differs between tokens and keys', () => {
    const key = randomBytes(32);
    const a = fingerprinter('k1', key);
    expect(a.of('token-1')).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    expect(a.of('token-1')).toBe(fingerprinter('k1', key).of('token-1'));
    expect(a.of('token-2')).not.toBe(a.of('token-1'));
    expect(fingerprinter('k1').of('token-1')).not.toBe(a.of('token-1'));
    expect(a.of('token-1')).not.toContain('token-1');
  });
});
