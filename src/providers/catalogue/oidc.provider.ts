import type { ProviderDefinition } from '../provider-definition.js';

/** Any OpenID Connect provider; endpoints come from discovery of `issuer`. */
export const oidcProvider: ProviderDefinition = {
  name: 'oidc',
  displayName: 'Generic OpenID Connect',
  kind: 'oidc',
  docsUrl: 'https://openid.net/specs/openid-connect-discovery-1_0.html',
  auth: {
    scopeSeparator: ' ',
    tokenEndpointAuthMethod: 'client_secret_basic',
    authorizationParams: {},
    defaultTokenLifetimeSeconds: 3600,
  },
  requiredIntegrationFields: ['issuer'],
  tokenExtras: {},
  revokeSupersededGrants: true,
  account: { type: 'id_token' },
};
