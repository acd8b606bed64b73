/** A token endpoint answer, normalised; what the connection stores (encrypted). */
export interface TokenResult {
  accessToken: string;
  /** Absent when the provider issued none or (on refresh) kept the old one. */
  refreshToken?: string;
  tokenType: string;
  expiresAt: Date;
  /** Granted scopes: the `scope` field, or the requested ones when it is omitted (RFC 6749 §5.1). */
  scopes: string[];
  /** Non-secret provider extras passed to callers, e.g. Salesforce's instance URL. */
  extras: Record<string, string>;
  idTokenClaims?: IdTokenClaims;
  /**
   * The token response's fields other than tokens (Salesforce `id`, HubSpot
   * `hub_id`), read once to identify the account; never stored.
   */
  responseFields?: Record<string, unknown>;
}

/** The ID token's string claims (`sub`, `email`, `name`, Microsoft's `tid` and `oid`…). */
export interface IdTokenClaims {
  sub: string;
  email?: string;
  name?: string;
  [claim: string]: string | undefined;
}

export interface ExternalAccount {
  id: string;
  email?: string;
  name?: string;
}
