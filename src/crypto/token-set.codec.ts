import type { Tokens, TokenSet } from './token-set.js';

/**
 * The plaintext inside a credential AEAD message did not have the shape we
 * write. It authenticated, so only a bug of ours (or a future format this
 * build does not know) can cause it; it is reported like an unreadable
 * credential, never as a half-built token set.
 */
export class MalformedTokenSetError extends Error {
  override readonly name = 'MalformedTokenSetError';
}

/** Format version 1 of the plaintext inside a credential's AEAD message. */
export function encodeTokenSet(tokens: Tokens): string {
  return JSON.stringify({
    v: 1,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt.toISOString(),
    scopes: tokens.scopes,
    extras: tokens.extras,
  });
}

/**
 * Decoded on every token read, so checked by hand rather than through a
 * schema library (a measurable share of the hot path); the checks are the
 * same ones: every field present with its type, nothing else trusted.
 */
export function decodeTokenSet(plaintext: string): TokenSet {
  const p = JSON.parse(plaintext) as Record<string, unknown> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    p.v !== 1 ||
    !isNonEmptyString(p.accessToken) ||
    !(p.refreshToken === undefined || isNonEmptyString(p.refreshToken)) ||
    !isNonEmptyString(p.tokenType) ||
    typeof p.expiresAt !== 'string' ||
    !isStringArray(p.scopes) ||
    !isStringRecord(p.extras)
  ) {
    throw new MalformedTokenSetError('The decrypted token set does not have the stored shape');
  }
  const expiresAt = new Date(p.expiresAt);
  if (Number.isNaN(expiresAt.getTime()))
    throw new MalformedTokenSetError('The decrypted token set has an invalid expiry');
  const tokens: Tokens = {
    accessToken: p.accessToken,
    tokenType: p.tokenType,
    expiresAt,
    scopes: p.scopes,
    extras: p.extras,
    ...(p.refreshToken ? { refreshToken: p.refreshToken } : {}),
  };
  return tokens as TokenSet;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === 'string')
  );
}
