import type { Secret } from '../common/secret.js';
import type { ModelConfig } from '../providers/api-model.schema.js';
import type {
  AccountLookup,
  ProviderDefinition,
  ProxyRoute,
  ScopeMatching,
  RevocationStyle,
  TokenEndpointAuthMethod,
  TokenErrorRule,
} from '../providers/provider-definition.js';
import type { RateLimit, RateLimitHeaderStyle } from '../providers/rate-limit.schema.js';
import type { SyncConfig } from './integrations-file.schema.js';

/**
 * One configured OAuth app: the integrations file entry merged over its
 * provider's definition. Everything downstream reads this, never the raw
 * file or the catalogue entry.
 */
export interface Integration {
  key: string;
  provider: ProviderDefinition;
  clientId: string;
  clientSecret: Secret;
  /** Requested on every authorization. */
  scopes: readonly string[];
  /** The grant must include these, or the connection is refused (defaults to `scopes`). */
  requiredScopes: readonly string[];
  scopeSeparator: ' ' | ',';
  issuer?: string;
  /** OAuth2 providers returning ID tokens: their issuer (`{tenantid}`: the token's `tid`). */
  idTokenIssuer?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  revocation: RevocationStyle;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  pkce: boolean;
  authorizationParams: Readonly<Record<string, string>>;
  defaultTokenLifetimeSeconds: number;
  /** The provider drops refresh tokens unused this long; the idle refresh stays well inside it. */
  refreshTokenIdleSeconds?: number;
  /** The connection's own accounts server, named in the authorization redirect (Zoho). */
  tokenHostFromCallback: ProviderDefinition['auth']['tokenHostFromCallback'];
  tokenResponse: TokenResponseRules;
  account: AccountLookup;
  revokeSupersededGrants: boolean;
  /**
   * The callback parks the grant until the app's backend confirms the end
   * user (POST /v1/connect-sessions/:id/finalize): a connect link opened by
   * someone else cannot attach their account to this user.
   */
  requireFinalize: boolean;
  api?: IntegrationApi;
  sync?: SyncConfig;
  /** What the broker may send the API per connection (src/rate-limit); absent: no budget. */
  budget?: IntegrationBudget;
}

/** The integration's `rateLimit` and `maxConcurrency`, or its provider's, and how its API reports limits. */
export interface IntegrationBudget {
  rate?: RateLimit;
  maxConcurrency?: number;
  headers?: RateLimitHeaderStyle;
}

/** How this integration's token responses are read. */
export interface TokenResponseRules {
  /** `extras` name → token response field. */
  extras: Readonly<Record<string, string>>;
  scopesField: 'scope' | 'scopes';
  neverEchoedScopes: readonly string[];
  scopeMatching: ScopeMatching;
  errors: readonly TokenErrorRule[];
}

/** The REST API syncs (and account lookups) read. */
export interface IntegrationApi {
  /** Fixed base URL (the provider's, or the integration's override)… */
  baseUrl?: string;
  /** …or the connection's own, from this token extra, if its host is allowed. */
  baseUrlFromExtra?: string;
  allowedHosts: readonly string[];
  /** The Authorization scheme of API calls, when not the token type. */
  authorizationScheme?: string;
  models: Readonly<Record<string, ModelConfig>>;
  /** Scopes proxied calls need, by path prefix: the integration's, then its provider's. */
  proxyRoutes: readonly ProxyRoute[];
}
