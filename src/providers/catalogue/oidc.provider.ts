import type { ProviderDefinitionInput } from '../provider-definition.js';

/** Any OpenID Connect provider; endpoints come from discovery of `issuer`. */
export const oidcProvider: ProviderDefinitionInput = {
  name: 'oidc',
  displayName: 'Generic OpenID Connect',
  kind: 'oidc',
  docsUrl: 'https://openid.net/specs/openid-connect-discovery-1_0.html',
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
  // RFC 7009 at the discovered revocation_endpoint, when there is one.
  revocation: 'rfc7009',
  account: { type: 'id_token' },
  api: null,
  apiVariants: {},
  settings: {},
  requiredIntegrationFields: ['issuer'],
  revokeSupersededGrants: true,
  quirks: ['Endpoints by discovery of `issuer`; the account is the ID token `sub`.'],
};
