/** The fields of a token set, as they arrive from a provider before storage. */
export interface Tokens {
  accessToken: string;
  /** Absent when the provider issued none or (on refresh) kept the old one. */
  refreshToken?: string;
  tokenType: string;
  expiresAt: Date;
  /** Granted scopes: the `scope` field, or the requested ones when it is omitted (RFC 6749 §5.1). */
  scopes: string[];
  /** Non-secret provider extras passed to callers, e.g. Salesforce's instance URL. */
  extras: Record<string, string>;
}

declare const decrypted: unique symbol;

/**
 * A decrypted token set. Only the credential sealer makes these (the one
 * encryption boundary); the brand keeps anything else from passing a
 * hand-built object where a stored credential is expected.
 */
export type TokenSet = Tokens & { readonly [decrypted]: true };
