import { z } from 'zod';
import type { Tokens, TokenSet } from './token-set.js';

/** The plaintext inside a credential's AEAD message (format version 1). */
const payloadSchema = z.object({
  v: z.literal(1),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  tokenType: z.string().min(1),
  expiresAt: z.string().datetime(),
  scopes: z.array(z.string()),
  extras: z.record(z.string(), z.string()),
});

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

export function decodeTokenSet(plaintext: string): TokenSet {
  const parsed = payloadSchema.parse(JSON.parse(plaintext));
  const tokens = {
    accessToken: parsed.accessToken,
    tokenType: parsed.tokenType,
    expiresAt: new Date(parsed.expiresAt),
    scopes: parsed.scopes,
    extras: parsed.extras,
    ...(parsed.refreshToken ? { refreshToken: parsed.refreshToken } : {}),
  };
  return tokens as TokenSet;
}
