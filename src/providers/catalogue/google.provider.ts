import type { ProviderDefinitionInput } from '../provider-definition.js';

/**
 * Google (People API contacts). Sources: web server flow
 * https://developers.google.com/identity/protocols/oauth2/web-server, OpenID Connect
 * https://developers.google.com/identity/openid-connect/openid-connect, refresh token
 * expiry https://developers.google.com/identity/protocols/oauth2, connections and sync
 * tokens https://developers.google.com/people/api/rest/v1/people.connections/list (its
 * "Authorization scopes" for the contacts model), incremental authorization
 * https://developers.google.com/identity/protocols/oauth2/web-server#incrementalAuth.
 */
export const googleProvider: ProviderDefinitionInput = {
  name: 'google',
  displayName: 'Google Contacts',
  kind: 'oidc',
  docsUrl: 'https://developers.google.com/identity/protocols/oauth2/web-server',
  auth: {
    // Endpoints by discovery (authorization, token and revocation).
    issuer: 'https://accounts.google.com',
    scopeSeparator: ' ',
    tokenEndpointAuthMethod: 'client_secret_post',
    // The discovery document advertises S256.
    pkce: true,
    // A refresh token comes "only the first time"; asking for consent again to get
    // one on every connect is the common practice (not a statement of Google's docs).
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    // "include_granted_scopes=true … the new access token also covers any scopes to which
    // the user previously granted the application access" (web-server flow, incremental authorization).
    incrementalAuthorizationParams: { include_granted_scopes: 'true' },
    defaultTokenLifetimeSeconds: 3599,
    // "The refresh token has not been used for six months."
    refreshTokenIdleDays: 180,
    tokenHostFromCallback: null,
  },
  token: {
    idTokenIssuer: null,
    extras: {},
    scopesField: 'scope',
    neverEchoedScopes: [],
    // Short identity scopes come back in their URL form.
    scopeMatching: {
      aliases: {
        email: 'https://www.googleapis.com/auth/userinfo.email',
        profile: 'https://www.googleapis.com/auth/userinfo.profile',
      },
      neverEchoedSuffixes: [],
      stripPrefixes: [],
      caseInsensitive: false,
    },
    // A Workspace admin's policy forbids the grant: only the user (with the admin) can fix it.
    errors: [{ bodyPath: 'error', equals: 'admin_policy_enforced', means: 'dead_grant' }],
  },
  revocation: 'rfc7009',
  // The ID token's `sub`: "unique among all Google accounts and never reused".
  account: { type: 'id_token' },
  api: {
    baseUrl: 'https://people.googleapis.com',
    allowedHosts: ['people.googleapis.com'],
    // people.connections.list, as the contacts model.
    proxyRoutes: [
      {
        pathPrefix: '/v1/people/me/connections',
        methods: ['GET'],
        scopes: [
          {
            anyOf: [
              'https://www.googleapis.com/auth/contacts.readonly',
              'https://www.googleapis.com/auth/contacts',
            ],
          },
        ],
      },
    ],
    models: {
      contacts: {
        // people.connections.list "requires one of the following OAuth scopes":
        // contacts or contacts.readonly (people.connections/list, Authorization scopes).
        scopes: [
          {
            anyOf: [
              'https://www.googleapis.com/auth/contacts.readonly',
              'https://www.googleapis.com/auth/contacts',
            ],
          },
        ],
        path: '/v1/people/me/connections',
        // "When syncing, all other parameters … must match the first call": the same on every run.
        query: {
          personFields: 'names,emailAddresses,phoneNumbers,organizations,metadata',
          requestSyncToken: 'true',
        },
        itemsPath: 'connections',
        idField: 'resourceName',
        updatedAtField: 'metadata.sources.0.updateTime',
        // "resources deleted since the last sync will be returned as a person with PersonMetadata.deleted set to true"
        deletedField: 'metadata.deleted',
        pagination: {
          type: 'cursor',
          cursorParam: 'pageToken',
          nextCursorPath: 'nextPageToken',
          limitParam: 'pageSize',
          limit: 1000, // "between 1 and 1000"
        },
        syncToken: {
          // "only the last page will contain nextSyncToken"
          nextPath: 'nextSyncToken',
          param: 'syncToken',
          // "Sync tokens expire 7 days after the full sync … reason EXPIRED_SYNC_TOKEN" (observed as 400; 410 in older docs).
          expired: [
            { status: 400, bodyPath: 'error.details.0.reason', equals: 'EXPIRED_SYNC_TOKEN' },
            { status: 410 },
          ],
        },
        fields: {
          name: 'names.0.displayName',
          firstName: 'names.0.givenName',
          lastName: 'names.0.familyName',
          email: 'emailAddresses.0.value',
          phone: 'phoneNumbers.0.value',
          organization: 'organizations.0.name',
        },
      },
    },
  },
  apiVariants: {},
  settings: {},
  requiredIntegrationFields: [],
  // Revoking any token of a combined authorization revokes all of it: a
  // reconnect's new grant would die with the old one.
  revokeSupersededGrants: false,
  quirks: [
    '`access_type=offline` and `prompt=consent`: a refresh token on every connect; refresh tokens are not rotated and die after six months unused (the idle refresh keeps them alive).',
    'Never revokes a superseded or refused grant: revoking any token ends the whole combined authorization.',
    '`email` and `profile` are granted as `…/auth/userinfo.email` and `…/auth/userinfo.profile`.',
    'Incremental runs use the People API sync token; an expired one (after 7 days) starts a full run. An empty account (`{}`) is zero contacts.',
  ],
};
