import type { ProviderDefinitionInput } from '../provider-definition.js';

/** Any OAuth2 API, described in full by its integration. */
export const oauth2Provider: ProviderDefinitionInput = {
  name: 'oauth2',
  displayName: 'Generic OAuth 2.0',
  kind: 'oauth2',
  docsUrl: 'https://www.rfc-editor.org/rfc/rfc6749',
  auth: {
    scopeSeparator: ' ',
    tokenEndpointAuthMethod: 'client_secret_basic',
    pkce: true,
    authorizationParams: {},
    incrementalAuthorizationParams: {},
    defaultTokenLifetimeSeconds: 3600,
    refreshTokenIdleDays: null,
    tokenHostFromCallback: null,
  },
  token: {
    idTokenIssuer: null,
    extras: {},
    scopesField: 'scope',
    neverEchoedScopes: [],
    scopeMatching: {
      aliases: {},
      neverEchoedSuffixes: [],
      stripPrefixes: [],
      caseInsensitive: false,
    },
    errors: [],
  },
  // RFC 7009, when the integration names a revocationUrl.
  revocation: 'rfc7009',
  account: { type: 'end_user' },
  api: null,
  apiVariants: {},
  settings: {},
  requiredIntegrationFields: ['authorizationUrl', 'tokenUrl'],
  revokeSupersededGrants: true,
  quirks: ['Everything comes from the integration: URLs, client authentication, `api` models.'],
};
