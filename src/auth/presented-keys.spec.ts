import { describe, expect, it } from '@jest/globals';
import { PresentedKeys } from './presented-keys.js';
import { generateServiceKey, hashServiceKey } from './service-key-format.js';

describe('PresentedKeys', () => {
  it('parses and digests a connection’s header once, while it stays the same', () => {
    const keys = new PresentedKeys();
    const connection = {};
    const key = generateServiceKey();
    const first = keys.of(connection, `Bearer ${key}`);
    expect(first).toEqual({ token: key, digest: hashServiceKey(key) });
    expect(keys.of(connection, `Bearer ${key}`)).toBe(first);
    // Another connection with the same header has its own memo.
    expect(keys.of({}, `Bearer ${key}`)).not.toBe(first);
  });

  it('never lets one key answer for another on the same connection', () => {
    const keys = new PresentedKeys();
    const connection = {};
    const a = generateServiceKey();
    const b = generateServiceKey();
    expect(keys.of(connection, `Bearer ${a}`).digest).toBe(hashServiceKey(a));
    expect(keys.of(connection, `Bearer ${b}`).digest).toBe(hashServiceKey(b));
    expect(keys.of(connection, `Bearer ${a}`).digest).toBe(hashServiceKey(a));
  });

  it('reads what is not a well-formed service key as such', () => {
    const keys = new PresentedKeys();
    expect(keys.of({}, undefined)).toEqual({ token: undefined, digest: undefined });
    expect(keys.of({}, 'Basic dXNlcjpwYXNz')).toEqual({ token: undefined, digest: undefined });
    expect(keys.of({}, 'Bearer tbcs_session')).toEqual({
      token: 'tbcs_session',
      digest: undefined,
    });
    expect(keys.of({}, 'bearer   tbk_short  ')).toEqual({ token: 'tbk_short', digest: undefined });
    // Without a socket (an injected request) nothing is kept, and the key is still read.
    const key = generateServiceKey();
    expect(keys.of(undefined, `Bearer ${key}`).digest).toBe(hashServiceKey(key));
  });
});
