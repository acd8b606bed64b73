/**
 * A built-in provider: what we know about one third-party API's OAuth2 and
 * REST behaviour. Providers are data; code appears only where data can't say
 * it (see `identify`).
 */
export interface ProviderDefinition {
  name: string;
  displayName: string;
  /** `oidc` providers are configured by discovery from their issuer. */
  kind: 'oauth2' | 'oidc';
  docsUrl?: string;
  auth: {
    authorizationUrl?: string;
    tokenUrl?: string;
    revocationUrl?: string;
    /** RFC 6749 §3.3 says space; some providers (e.g. older Zoho apps) use commas. */
    scopeSeparator: ' ' | ',';
    tokenEndpointAuthMethod: TokenEndpointAuthMethod;
    /** Extra authorization request parameters, e.g. `access_type=offline`. */
    authorizationParams: Record<string, string>;
    /** Lifetime assumed when a token response has no `expires_in`. */
    defaultTokenLifetimeSeconds: number;
  };
  /** Integration fields this provider cannot default and the integrations file must give. */
  requiredIntegrationFields: ReadonlyArray<'authorizationUrl' | 'tokenUrl' | 'issuer'>;
  /** Non-secret token response fields returned to callers as `extras`. */
  tokenExtras: Readonly<Partial<Record<TokenExtraName, string>>>;
  /** How the external account is identified after consent, unless the integration says otherwise. */
  account: AccountLookup;
  /**
   * Revoke the old refresh token when a reconnect replaces it. Only safe
   * where each authorization is its own grant: providers that keep one grant
   * per user and client would revoke the new tokens with the old.
   */
  revokeSupersededGrants: boolean;
}

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

export type TokenExtraName = 'instanceUrl' | 'apiDomain';

export type AccountLookup =
  /** The ID token's `sub`, `email` and `name` claims (OIDC). */
  | { type: 'id_token' }
  /** A GET with the new access token; fields picked by dotted paths. */
  | { type: 'http'; url: string; idPath: string; emailPath?: string; namePath?: string }
  /** No account identity at the provider: one connection per tenant and end user. */
  | { type: 'end_user' };
