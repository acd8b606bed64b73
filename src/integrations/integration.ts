import type { Secret } from '../common/secret.js';
import type {
  AccountLookup,
  ProviderDefinition,
  TokenEndpointAuthMethod,
  TokenExtraName,
} from '../providers/provider-definition.js';
import type { ApiConfig, SyncConfig } from './integrations-file.schema.js';

/**
 * One configured OAuth app: the integrations file entry merged over its
 * provider's defaults. Everything downstream reads this, never the raw file.
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
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  authorizationParams: Readonly<Record<string, string>>;
  defaultTokenLifetimeSeconds: number;
  tokenExtras: Readonly<Partial<Record<TokenExtraName, string>>>;
  account: AccountLookup;
  revokeSupersededGrants: boolean;
  /**
   * The callback parks the grant until the app's backend confirms the end
   * user (POST /v1/connect-sessions/:id/finalize): a connect link opened by
   * someone else cannot attach their account to this user.
   */
  requireFinalize: boolean;
  api?: ApiConfig;
  sync?: SyncConfig;
}
