import type * as client from 'openid-client';
import { readStringPath } from '../common/json-path.js';
import type { Integration } from '../integrations/integration.js';
import { stringClaims } from './id-token.js';
import type { IdTokenClaims, TokenResult } from './token-result.js';

/** Where the claims of an ID token checked before openid-client saw the answer are passed on. */
export const CHECKED_ID_TOKEN_CLAIMS = 'tb_checked_id_token_claims';

type TokenResponse = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

/**
 * Normalises a token endpoint response. Expiry counts from when the request
 * was sent, not when the answer arrived, so a slow provider can only make us
 * refresh early, never late.
 */
export function toTokenResult(
  response: TokenResponse,
  integration: Integration,
  fallbackScopes: readonly string[],
  sentAt: Date,
): TokenResult {
  const lifetime =
    typeof response.expires_in === 'number' && response.expires_in > 0
      ? response.expires_in
      : integration.defaultTokenLifetimeSeconds;
  const result: TokenResult = {
    accessToken: response.access_token,
    tokenType: normaliseTokenType(response.token_type),
    expiresAt: new Date(sentAt.getTime() + lifetime * 1000),
    scopes: parseScopes(
      (response as Record<string, unknown>)[integration.tokenResponse.scopesField],
      integration.scopeSeparator,
    ) ?? [...fallbackScopes],
    extras: pickExtras(response, integration),
    responseFields: withoutSecrets(response),
  };
  if (response.refresh_token) result.refreshToken = response.refresh_token;
  const claims = response.id_token ? response.claims() : undefined;
  if (claims) result.idTokenClaims = stringClaims(claims) as IdTokenClaims;
  // Checked (and taken out of openid-client's way) by OAuthConfigurations.
  const checked = (response as Record<string, unknown>)[CHECKED_ID_TOKEN_CLAIMS];
  if (checked) result.idTokenClaims = checked as IdTokenClaims;
  return result;
}

const SECRET_FIELDS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  CHECKED_ID_TOKEN_CLAIMS,
]);

/** The answer's other fields (Salesforce `id`, HubSpot `hub_id`), for identifying the account. */
function withoutSecrets(response: TokenResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(response).filter(([name]) => !SECRET_FIELDS.has(name)));
}

function normaliseTokenType(type: string | undefined): string {
  // Many providers say "bearer"; RFC 6750 callers expect "Bearer".
  return !type || type.toLowerCase() === 'bearer' ? 'Bearer' : type;
}

export function parseScopes(scope: unknown, separator: ' ' | ','): string[] | undefined {
  if (Array.isArray(scope))
    return scope.filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (typeof scope !== 'string') return undefined;
  return scope.split(separator === ',' ? /[\s,]+/ : /\s+/).filter(Boolean);
}

/** Kept as strings: HubSpot's numeric `hub_id` is an id, not a quantity. */
function pickExtras(response: TokenResponse, integration: Integration): Record<string, string> {
  const extras: Record<string, string> = {};
  for (const [name, field] of Object.entries(integration.tokenResponse.extras)) {
    const value = readStringPath(response, field);
    if (value !== undefined) extras[name] = value;
  }
  return extras;
}
