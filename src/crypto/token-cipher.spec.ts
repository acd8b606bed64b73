import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import sodium from 'libsodium-wrappers';
import { parseEncryptionKeys } from '../config/encryption-keys.js';
import { DecryptionError, TokenCipher } from './token-cipher.js';

const keyString = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const binding = { tenantId: 'tenant-a', connectionId: '6d1c8a51-7f4e-4f0b-9a53-5d0d7f0e3b11' };

describe('TokenCipher', () => {
  it('round-trips and never returns the plaintext in the ciphertext', async () => {
    const cipher = await TokenCipher.create(parseEncryptionKeys(keyString('k1')));
    const sealed = cipher.seal('{"accessToken":"at-secret-value"}', binding);
    expect(sealed.keyId).toBe('k1');
    expect(Buffer.from(sealed.ciphertext).toString('latin1')).not.toContain('at-secret-value');
    expect(cipher.open(sealed, binding)).toBe('{"accessToken":"at-secret-value"}');
  });

  it('uses a fresh nonce for every message', async () => {
    const cipher = await TokenCipher.create(parseEncryptionKeys(keyString('k1')));
    const a = cipher.seal('same', binding);
    const b = cipher.seal('same', binding);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
  });

  it('refuses a ciphertext moved to another tenant or connection', async () => {
    const cipher = await TokenCipher.create(parseEncryptionKeys(keyString('k1')));
    const sealed = cipher.seal('secret', binding);
    expect(() => cipher.open(sealed, { ...binding, tenantId: 'tenant-b' })).toThrow(
      DecryptionError,
    );
    expect(() => cipher.open(sealed, { ...binding, connectionId: 'other' })).toThrow(
      DecryptionError,
    );
  });

  it('refuses a ciphertext relabelled with another key id', async () => {
    const cipher = await TokenCipher.create(
      parseEncryptionKeys(`${keyString('k1')},${keyString('k2')}`),
    );
    const sealed = cipher.seal('secret', binding);
    expect(() => cipher.open({ ...sealed, keyId: 'k2' }, binding)).toThrow(DecryptionError);
  });

  it('opens what was sealed with the string helpers of sodium (the stored format is unchanged)', async () => {
    // The layout and associated data as written before the cipher built them
    // with Buffer: version byte, nonce, then sodium.from_string of the binding.
    const raw = randomBytes(32);
    const cipher = await TokenCipher.create(parseEncryptionKeys(`k1:${raw.toString('base64')}`));
    const nonce = sodium.randombytes_buf(24);
    const ad = sodium.from_string(
      ['token-broker/credential/v1', binding.tenantId, binding.connectionId, 'k1'].join('\u0000'),
    );
    const body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      sodium.from_string('{"accessToken":"ü-ß"}'),
      ad,
      null,
      nonce,
      new Uint8Array(raw),
    );
    const ciphertext = new Uint8Array([1, ...nonce, ...body]);
    expect(cipher.open({ keyId: 'k1', ciphertext }, binding)).toBe('{"accessToken":"ü-ß"}');
    // And bytes that are not UTF-8 are refused, not decoded to U+FFFD.
    const notUtf8 = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      new Uint8Array([0xff, 0xfe]),
      ad,
      null,
      nonce,
      new Uint8Array(raw),
    );
    expect(() =>
      cipher.open({ keyId: 'k1', ciphertext: new Uint8Array([1, ...nonce, ...notUtf8]) }, binding),
    ).toThrow(DecryptionError);
  });

  it('refuses a tampered ciphertext', async () => {
    const cipher = await TokenCipher.create(parseEncryptionKeys(keyString('k1')));
    const sealed = cipher.seal('secret', binding);
    const tampered = Uint8Array.from(sealed.ciphertext);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => cipher.open({ ...sealed, ciphertext: tampered }, binding)).toThrow(
      DecryptionError,
    );
  });

  it('seals with the first key and opens rows sealed by any configured key', async () => {
    const old = keyString('old');
    const next = keyString('new');
    const before = await TokenCipher.create(parseEncryptionKeys(old));
    const sealedWithOld = before.seal('secret', binding);
    const rotated = await TokenCipher.create(parseEncryptionKeys(`${next},${old}`));
    expect(rotated.open(sealedWithOld, binding)).toBe('secret');
    expect(rotated.seal('secret', binding).keyId).toBe('new');
  });

  it('fails to open a row whose key is no longer configured', async () => {
    const before = await TokenCipher.create(parseEncryptionKeys(keyString('old')));
    const sealed = before.seal('secret', binding);
    const after = await TokenCipher.create(parseEncryptionKeys(keyString('new')));
    expect(() => after.open(sealed, binding)).toThrow(/no configured key/);
  });
});

describe('parseEncryptionKeys', () => {
  it.each([
    ['', /at least one key/],
    ['nokid', /kid:base64key/],
    ['k1:short', /32 random bytes/],
    [`k1:${randomBytes(16).toString('base64')}`, /32 random bytes/],
    [`${keyString('k1')},${keyString('k1')}`, /appears twice/],
    [`bad id:${randomBytes(32).toString('base64')}`, /kid:base64key/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseEncryptionKeys(raw)).toThrow(message);
  });

  it('never echoes key material in its errors', () => {
    const material = randomBytes(31).toString('base64');
    try {
      parseEncryptionKeys(`k1:${material}`);
    } catch (error) {
      expect((error as Error).message).not.toContain(material);
    }
    expect.assertions(1);
  });
});
