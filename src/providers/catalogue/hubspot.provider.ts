import type { ProviderDefinitionInput } from '../provider-definition.js';

/**
 * HubSpot. Sources: OAuth v3 https://developers.hubspot.com/docs/api-reference/legacy/authentication/manage-oauth-tokens
 * (v1 is deprecated, shut down 2027-02-16: https://developers.hubspot.com/changelog/v1-oauth-api-deprecation),
 * `hub_id` and `scopes` in token answers https://developers.hubspot.com/changelog/additional-details-returned-when-generating-oauth-access-tokens,
 * CRM objects https://developers.hubspot.com/docs/api/crm/contacts, search
 * https://developers.hubspot.com/docs/api-reference/search/guide.
 */

/** Changed records via search: sorted by modification time, inclusive, at most 10,000 per query. */
function searchChanges(object: string, modified: string, properties: string[]) {
  return {
    method: 'POST' as const,
    path: `/crm/v3/objects/${object}/search`,
    body: {
      filterGroups: [{ filters: [{ propertyName: modified, operator: 'GTE', value: '{since}' }] }],
      // "Only one sorting rule can be applied to any search."
      sorts: [{ propertyName: modified, direction: 'ASCENDING' }],
      properties,
    },
    pagination: {
      type: 'cursor' as const,
      cursorParam: 'after',
      nextCursorPath: 'paging.next.after',
      limitParam: 'limit',
      limit: 200, // "The maximum number of supported objects per page is 200."
    },
    maxResults: 10_000, // "limited to 10,000 total results for any given query"
  };
}

function crmModel(
  object: string,
  modified: string,
  properties: string[],
  fields: Record<string, string>,
) {
  return {
    // Reading (and searching) a CRM object needs `crm.objects.<object>.read`
    // (https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/scopes).
    scopes: [`crm.objects.${object}.read`],
    path: `/crm/v3/objects/${object}`,
    query: { properties: [...properties, modified].join(','), archived: 'false' },
    itemsPath: 'results',
    idField: 'id',
    updatedAtField: `properties.${modified}`,
    deletedField: 'archived',
    pagination: {
      type: 'cursor' as const,
      cursorParam: 'after',
      nextCursorPath: 'paging.next.after',
      limitParam: 'limit',
      limit: 100, // "You can retrieve up to 100 … in one request"
    },
    incremental: searchChanges(object, modified, [...properties, modified]),
    // Search never shows archived objects; the list endpoint does, with archived=true.
    deletions: { query: { archived: 'true' } },
    // "It may take a few moments for newly created or updated CRM objects to appear in search results."
    since: { format: 'epoch_ms' as const, lookBackSeconds: 300 },
    fields,
  };
}

export const hubspotProvider: ProviderDefinitionInput = {
  name: 'hubspot',
  displayName: 'HubSpot',
  kind: 'oauth2',
  docsUrl:
    'https://developers.hubspot.com/docs/api-reference/legacy/authentication/manage-oauth-tokens',
  auth: {
    authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
    tokenUrl: 'https://api.hubapi.com/oauth/v3/token',
    revocationUrl: 'https://api.hubapi.com/oauth/v3/token/revoke',
    scopeSeparator: ' ',
    // "Each of the v3 endpoints require that parameters are included in the request body."
    tokenEndpointAuthMethod: 'client_secret_post',
    pkce: true,
    authorizationParams: {},
    incrementalAuthorizationParams: {},
    // "Access tokens are short-lived (30 minutes)"; every answer also says expires_in.
    defaultTokenLifetimeSeconds: 1800,
    refreshTokenIdleDays: null,
    tokenHostFromCallback: null,
  },
  token: {
    idTokenIssuer: null,
    extras: { hubId: 'hub_id' },
    scopesField: 'scopes',
    neverEchoedScopes: [],
    scopeMatching: {
      aliases: {},
      neverEchoedSuffixes: [],
      stripPrefixes: [],
      caseInsensitive: false,
    },
    // v3 answers are RFC 6749 (`error`); older ones carried only HubSpot's `status`.
    errors: [
      { bodyPath: 'status', equals: 'BAD_REFRESH_TOKEN', means: 'dead_grant' },
      { bodyPath: 'status', equals: 'BAD_CLIENT_ID', means: 'client_rejected' },
      { bodyPath: 'status', equals: 'BAD_CLIENT_SECRET', means: 'client_rejected' },
    ],
  },
  revocation: 'rfc7009',
  // The portal: `hub_id` of the token answer.
  account: { type: 'token_response', idPath: 'hub_id' },
  api: {
    baseUrl: 'https://api.hubapi.com',
    allowedHosts: ['api.hubapi.com'],
    // Reading a CRM object (its search is a POST) needs `.read`, changing it `.write` (scopes page above).
    proxyRoutes: ['contacts', 'companies', 'deals'].flatMap((object) => [
      {
        pathPrefix: `/crm/v3/objects/${object}`,
        methods: ['GET' as const],
        scopes: [`crm.objects.${object}.read`],
      },
      {
        pathPrefix: `/crm/v3/objects/${object}/search`,
        methods: ['POST' as const],
        scopes: [`crm.objects.${object}.read`],
      },
      {
        pathPrefix: `/crm/v3/objects/${object}`,
        methods: ['POST' as const, 'PATCH' as const, 'DELETE' as const],
        scopes: [`crm.objects.${object}.write`],
      },
    ]),
    // "Apps using OAuth are only subject to a limit of 100 requests every 10 seconds"
    // per installing account (https://developers.hubspot.com/apisbytier,
    // https://developers.hubspot.com/docs/api/usage-details); its answers carry the window.
    rateLimit: { requests: 100, perSeconds: 10, headers: 'hubspot' },
    models: {
      contacts: crmModel(
        'contacts',
        'lastmodifieddate',
        ['firstname', 'lastname', 'email', 'phone', 'company'],
        {
          firstName: 'properties.firstname',
          lastName: 'properties.lastname',
          email: 'properties.email',
          phone: 'properties.phone',
          company: 'properties.company',
        },
      ),
      companies: crmModel(
        'companies',
        'hs_lastmodifieddate',
        ['name', 'domain', 'industry', 'phone'],
        {
          name: 'properties.name',
          domain: 'properties.domain',
          industry: 'properties.industry',
          phone: 'properties.phone',
        },
      ),
      deals: crmModel(
        'deals',
        'hs_lastmodifieddate',
        ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate'],
        {
          name: 'properties.dealname',
          amount: 'properties.amount',
          stage: 'properties.dealstage',
          pipeline: 'properties.pipeline',
          closeDate: 'properties.closedate',
        },
      ),
    },
  },
  apiVariants: {},
  settings: {},
  requiredIntegrationFields: [],
  // Each authorization issues its own refresh token; revoking the replaced one leaves the new grant alone.
  revokeSupersededGrants: true,
  quirks: [
    'Client credentials in the form body (OAuth v3), not HTTP Basic.',
    'Token answers carry `hub_id` (the portal: `account.id`, `extras.hubId`) and a `scopes` array; 30-minute access tokens.',
    'Incremental runs use CRM search (POST, sorted by modification time); its 10,000-result window is re-read in slices.',
    'Search never shows archived records: incremental runs read `archived=true` listings as tombstones.',
  ],
};
