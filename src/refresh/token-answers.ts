import { Injectable } from '@nestjs/common';
import sodium from 'libsodium-wrappers';
import type { TokenSet } from '../connections/connection.js';

/** The token API's answer (GET …/token, POST …/token/rejected); the refresh token never leaves. */
export interface TokenAnswer {
  accessToken: string;
  tokenType: string;
  expiresAt: string;
  scopes: string[];
  extras: Record<string, string>;
  minValidityClampedTo?: number;
}

export function tokenAnswer(tokens: TokenSet, minValidityClampedTo?: number): TokenAnswer {
  return {
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt.toISOString(),
    scopes: tokens.scopes,
    extras: tokens.extras,
    ...(minValidityClampedTo !== undefined && { minValidityClampedTo }),
  };
}

/** What the token reads of one sealed credential share: nothing in it is a token in plaintext. */
export interface AnswerMemo {
  /** The token's expiry: the freshness check and the clamp need no decryption. */
  readonly expiresAt: Date;
  /** The audit fingerprint of the access token (TokenFingerprint). */
  readonly fingerprint: string;
  /** The answer's JSON without `minValidityClampedTo`, sealed: nonce ‖ XChaCha20-Poly1305. */
  readonly sealed: Uint8Array;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The token read's answer per cached credential, kept sealed. A cache hit
 * used to open the stored credential, parse and check its token set, build
 * the answer and serialise it: a fifth of a token read's CPU beyond the
 * hello-world's (npm run bench). The same credential object always opens
 * to the same tokens, so the first read of it builds the answer once and
 * seals it under a random key this process draws for the purpose (never
 * stored, never sent anywhere); later reads open that and send it as it
 * is: one AEAD open, as before, and no parse, check or serialisation. A
 * memo goes with its credential object (WeakMap), so with the cache entry:
 * every write that evicts the entry retires its answer, and nothing
 * outlives what the cache itself holds. A process dump shows ciphertext
 * here as it does in the cache; the key is in the same memory, like
 * ENCRYPTION_KEYS.
 */
@Injectable()
export class TokenAnswers {
  private readonly memos = new WeakMap<object, AnswerMemo>();
  /** Drawn on first use: libsodium is ready by then (a credential has been opened). */
  private key: Uint8Array | undefined;

  of(credential: object): AnswerMemo | undefined {
    return this.memos.get(credential);
  }

  remember(credential: object, tokens: TokenSet, fingerprint: string): AnswerMemo {
    const key = (this.key ??= sodium.crypto_aead_xchacha20poly1305_ietf_keygen());
    const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    const body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      Buffer.from(JSON.stringify(tokenAnswer(tokens)), 'utf8'),
      null,
      null,
      nonce,
      key,
    );
    const sealed = new Uint8Array(nonce.length + body.length);
    sealed.set(nonce);
    sealed.set(body, nonce.length);
    const memo = { expiresAt: tokens.expiresAt, fingerprint, sealed };
    this.memos.set(credential, memo);
    return memo;
  }

  /** The answer's JSON text, with `minValidityClampedTo` when the read was clamped. */
  open(memo: AnswerMemo, minValidityClampedTo?: number): string {
    const nonceBytes = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    const json = UTF8.decode(
      sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        memo.sealed.subarray(nonceBytes),
        null,
        memo.sealed.subarray(0, nonceBytes),
        this.key!,
      ),
    );
    // The answer is a JSON object: the last field goes before its closing brace.
    return minValidityClampedTo === undefined
      ? json
      : `${json.slice(0, -1)},"minValidityClampedTo":${minValidityClampedTo}}`;
  }
}
