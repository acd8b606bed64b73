import type { Tokens } from '../crypto/token-set.js';

/** A token endpoint answer, normalised; its `Tokens` are what the connection stores (encrypted). */
export interface TokenResult extends Tokens {
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
