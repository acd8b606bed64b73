import type { ProviderDefinition } from '../provider-definition.js';

/** Any OAuth2 API, described in full by its integration. */
export const oauth2Provider: ProviderDefinition = {
  name: 'oauth2',
  displayName: 'Generic OAuth 2.0',
  kind: 'oauth2',
  docsUrl: 'https://www.rfc-editor.org/rfc/rfc6749',
  auth: {
    scopeSeparator: ' ',
    tokenEndpointAuthMethod: 'client_secret_basic',
    authorizationParams: {},
    defaultTokenLifetimeSeconds: 3600,
  },
  requiredIntegrationFields: ['authorizationUrl', 'tokenUrl'],
  tokenExtras: {},
  revokeSupersededGrants: true,
  account: { type: 'end_user' },
};
