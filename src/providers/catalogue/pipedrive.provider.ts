import type { ProviderDefinitionInput } from '../provider-definition.js';

/**
 * Pipedrive. Sources: OAuth https://developers.pipedrive.com/docs/api/v1/Oauth,
 * token answers with `api_domain` https://developers.pipedrive.com/changelog/post/new-parameter-in-oauth-oauthtoken-responses,
 * errors https://pipedrive.readme.io/docs/marketplace-oauth-and-api-proxy-status-codes,
 * revocation https://pipedrive.readme.io/docs/app-uninstallation, API v2 persons and
 * organizations https://developers.pipedrive.com/docs/api/v1/Persons and
 * https://pipedrive.readme.io/docs/core-api-concepts-pagination.
 */

/** API v2 lists: cursor pages of up to 500, `updated_since` (inclusive, RFC 3339) for changes. */
function v2List(path: string, fields: Record<string, string>) {
  return {
    // Persons and organizations are under "contacts:read" (or "contacts:full")
    // (https://pipedrive.readme.io/docs/marketplace-scopes-and-permissions-explanations).
    scopes: [{ anyOf: ['contacts:read', 'contacts:full'] }],
    path,
    itemsPath: 'data',
    idField: 'id',
    updatedAtField: 'update_time',
    deletedField: 'is_deleted',
    pagination: {
      type: 'cursor' as const,
      cursorParam: 'cursor',
      nextCursorPath: 'additional_data.next_cursor',
      limitParam: 'limit',
      limit: 500, // "a maximum value of 500 is allowed"
    },
    incremental: {
      query: { updated_since: '{since}', sort_by: 'update_time', sort_direction: 'asc' },
    },
    since: { format: 'iso_seconds' as const, lookBackSeconds: 60 },
    fields,
  };
}

export const pipedriveProvider: ProviderDefinitionInput = {
  name: 'pipedrive',
  displayName: 'Pipedrive',
  kind: 'oauth2',
  docsUrl: 'https://developers.pipedrive.com/docs/api/v1/Oauth',
  auth: {
    authorizationUrl: 'https://oauth.pipedrive.com/oauth/authorize',
    tokenUrl: 'https://oauth.pipedrive.com/oauth/token',
    revocationUrl: 'https://oauth.pipedrive.com/oauth/revoke',
    // Granted scopes come back as "base,deals:full,contacts:read".
    scopeSeparator: ',',
    // "The header value should be Basic <base64(client_id:client_secret)>" (required).
    tokenEndpointAuthMethod: 'client_secret_basic',
    // The authorization request documents client_id, redirect_uri and state only.
    pkce: false,
    authorizationParams: {},
    incrementalAuthorizationParams: {},
    defaultTokenLifetimeSeconds: 3599,
    // A refresh token not used for 60 days dies; the idle refresh keeps it alive.
    refreshTokenIdleDays: 60,
    tokenHostFromCallback: null,
  },
  token: {
    idTokenIssuer: null,
    extras: { apiDomain: 'api_domain' },
    scopesField: 'scope',
    neverEchoedScopes: [],
    scopeMatching: {
      aliases: {},
      neverEchoedSuffixes: [],
      stripPrefixes: [],
      caseInsensitive: false,
    },
    // Errors carry RFC 6749 codes in `error` (400 for every token error).
    errors: [],
  },
  // "This token revocation endpoint conforms to RFC 7009", with HTTP Basic.
  revocation: 'rfc7009',
  // "use user_id plus company_id as the unique key": the company and the user.
  account: {
    type: 'http',
    path: '/api/v1/users/me',
    idPath: ['data.company_id', 'data.id'],
    emailPath: 'data.email',
    namePath: 'data.name',
  },
  api: {
    // Every company has its own host, given as `api_domain` in each token answer.
    baseUrlFromExtra: 'apiDomain',
    allowedHosts: ['*.pipedrive.com'],
    // Reading persons and organizations: contacts:read (or :full); anything else on them: contacts:full.
    proxyRoutes: [
      '/api/v2/persons',
      '/api/v2/organizations',
      '/api/v1/persons',
      '/api/v1/organizations',
    ].flatMap((pathPrefix) => [
      {
        pathPrefix,
        methods: ['GET' as const],
        scopes: [{ anyOf: ['contacts:read', 'contacts:full'] }],
      },
      {
        pathPrefix,
        methods: ['POST' as const, 'PUT' as const, 'PATCH' as const, 'DELETE' as const],
        scopes: ['contacts:full'],
      },
    ]),
    // OAuth apps: 80 requests per 2-second window per access token on the
    // smallest plan (Essential); `x-ratelimit-*` say the plan's own
    // (https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting).
    rateLimit: { requests: 80, perSeconds: 2, headers: 'pipedrive' },
    models: {
      contacts: v2List('/api/v2/persons', {
        name: 'name',
        firstName: 'first_name',
        lastName: 'last_name',
        email: 'emails.0.value',
        phone: 'phones.0.value',
        organizationId: 'org_id',
      }),
      companies: v2List('/api/v2/organizations', { name: 'name', address: 'address.value' }),
    },
  },
  apiVariants: {},
  settings: {},
  requiredIntegrationFields: [],
  // Revocation uninstalls the app for the company's user ("marking an app
  // uninstalled"): revoking a replaced token could end the new grant too.
  revokeSupersededGrants: false,
  quirks: [
    'HTTP Basic client authentication is required at the token endpoint.',
    'Each company has its own API host: `api_domain` in every token answer (`extras.apiDomain`), checked against `*.pipedrive.com`.',
    'Refresh tokens rotate (single use) and die after 60 days unused; the idle refresh keeps them alive.',
    'Scopes are chosen in the app settings and granted all or nothing; granted scopes come back comma-separated.',
    'Deletions are found by full runs (API v2 lists have no tombstone feed).',
    'Revoking a token uninstalls the app for the user: only disconnect revokes (not a reconnect, not a refused grant).',
  ],
};
