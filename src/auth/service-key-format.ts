import { randomToken, sha256Hex } from '../common/random.js';

/**
 * Service keys look like `tbk_<43 url-safe chars>`: 256 random bits, with a
 * prefix that secret scanners and our log redaction recognise. Only the
 * SHA-256 is stored; a fast hash is enough because the key is random, not a
 * password.
 */
const PREFIX = 'tbk_';
const SHAPE = /^tbk_[A-Za-z0-9_-]{43}$/;

export function generateServiceKey(): string {
  return `${PREFIX}${randomToken(32)}`;
}

export function isWellFormedServiceKey(value: string): boolean {
  return SHAPE.test(value);
}

export function hashServiceKey(key: string): string {
  return sha256Hex(key);
}

/** The hash a presented key is looked up by, or undefined when it is not shaped like a key. */
export function presentedKeyDigest(presented: string): string | undefined {
  return isWellFormedServiceKey(presented) ? hashServiceKey(presented) : undefined;
}

/** A harmless identifier for listings: the prefix and first characters. */
export function displayPrefix(key: string): string {
  return key.slice(0, PREFIX.length + 6);
}
