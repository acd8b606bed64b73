import type { ProviderDefinitionInput } from '../provider-definition.js';

/**
 * Salesforce. Sources: web server flow https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm,
 * refresh https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_refresh_token_flow.htm,
 * endpoints https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_endpoints.htm,
 * errors https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_flow_errors.htm,
 * revocation https://developer.salesforce.com/docs/platform/mobile-sdk/guide/oauth-revoking-tokens.html,
 * query https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query,
 * queryAll https://developer.salesforce.com/docs/platform/api-rest/guide/resources-queryall.md,
 * SOQL date literals https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm.
 */

const VERSION = 'v66.0'; // Spring '26

/** A SOQL model: full runs query everything, incremental runs what changed, then what was deleted. */
function soqlModel(object: string, columns: string[], fields: Record<string, string>) {
  const select = `SELECT Id, ${columns.join(', ')}, SystemModstamp FROM ${object}`;
  return {
    // REST API access is `api`; `full` "encompasses all other scopes"
    // (https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_tokens_scopes.htm).
    scopes: [{ anyOf: ['api', 'full'] }],
    path: `/services/data/${VERSION}/query`,
    query: { q: select },
    itemsPath: 'records',
    idField: 'Id',
    // SystemModstamp also moves on system changes LastModifiedDate misses.
    updatedAtField: 'SystemModstamp',
    deletedField: 'IsDeleted',
    // Up to 2,000 records a page; the rest through `nextRecordsUrl` (absent when `done`).
    pagination: { type: 'next_url' as const, nextUrlPath: 'nextRecordsUrl' },
    incremental: {
      // Date literals are unquoted `YYYY-MM-DDThh:mm:ssZ`.
      query: { q: `${select} WHERE SystemModstamp > {since} ORDER BY SystemModstamp ASC` },
    },
    // queryAll also returns records deleted (to the recycle bin) or merged.
    deletions: {
      path: `/services/data/${VERSION}/queryAll`,
      query: {
        q: `SELECT Id, SystemModstamp, IsDeleted FROM ${object} WHERE IsDeleted = TRUE AND SystemModstamp > {since}`,
      },
    },
    since: { format: 'iso_seconds' as const, lookBackSeconds: 60 },
    // A locator idle too long, or released (ten open cursors per user), is refused with
    // INVALID_QUERY_LOCATOR (https://help.salesforce.com/apex/HTViewSolution?id=000004410):
    // the query is run again from its first page.
    staleCursor: [{ bodyPath: '0.errorCode', equals: 'INVALID_QUERY_LOCATOR' }],
    fields,
  };
}

export const salesforceProvider: ProviderDefinitionInput = {
  name: 'salesforce',
  displayName: 'Salesforce',
  kind: 'oauth2',
  docsUrl:
    'https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm',
  auth: {
    // Sandboxes: test.salesforce.com; My Domain hosts: override the URLs in the integration.
    authorizationUrl: 'https://login.salesforce.com/services/oauth2/authorize',
    tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
    revocationUrl: 'https://login.salesforce.com/services/oauth2/revoke',
    scopeSeparator: ' ',
    // The body, as the documented examples; HTTP Basic is accepted too.
    tokenEndpointAuthMethod: 'client_secret_post',
    pkce: true,
    authorizationParams: {},
    incrementalAuthorizationParams: {},
    // No expires_in: the session timeout decides, 120 minutes by default (of inactivity).
    defaultTokenLifetimeSeconds: 7200,
    refreshTokenIdleDays: null,
    tokenHostFromCallback: null,
  },
  token: {
    idTokenIssuer: null,
    extras: { instanceUrl: 'instance_url' },
    scopesField: 'scope',
    // `refresh_token` is "synonymous with requesting offline_access": either may come back.
    neverEchoedScopes: ['offline_access'],
    scopeMatching: {
      aliases: {},
      neverEchoedSuffixes: [],
      stripPrefixes: [],
      caseInsensitive: false,
    },
    errors: [
      { bodyPath: 'error', equals: 'invalid_client_id', means: 'client_rejected' },
      { bodyPath: 'error', equals: 'invalid_client_credentials', means: 'client_rejected' },
      { bodyPath: 'error', equals: 'inactive_user', means: 'dead_grant' },
      { bodyPath: 'error', equals: 'inactive_org', means: 'dead_grant' },
      { bodyPath: 'error', equals: 'rate_limit_exceeded', means: 'transient' },
    ],
  },
  // POST token=…: 200 on success, 400 unsupported_token_type or invalid_token.
  revocation: 'rfc7009',
  // `id` is https://login.salesforce.com/id/<orgId>/<userId>: the org and the user.
  account: { type: 'token_response', idPath: 'id', idPattern: '/id/([^/]+)/([^/?]+)/?$' },
  api: {
    baseUrlFromExtra: 'instanceUrl',
    allowedHosts: ['*.salesforce.com', '*.force.com'],
    // Every REST API call needs `api` (or `full`), whatever the method (scopes page above).
    proxyRoutes: [{ pathPrefix: '/services/data/', scopes: [{ anyOf: ['api', 'full'] }] }],
    // An org's allocation is 100,000 calls a rolling 24 hours plus per-licence
    // adders; `Sforce-Limit-Info` says the org's own (and lowers this); at most
    // 25 long-running calls at once in production orgs
    // (https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-api.html).
    rateLimit: { requests: 100_000, perSeconds: 86_400, maxConcurrency: 25, headers: 'salesforce' },
    models: {
      contacts: soqlModel(
        'Contact',
        ['FirstName', 'LastName', 'Email', 'Phone', 'Title', 'AccountId'],
        {
          firstName: 'FirstName',
          lastName: 'LastName',
          email: 'Email',
          phone: 'Phone',
          title: 'Title',
          accountId: 'AccountId',
        },
      ),
      companies: soqlModel(
        'Account',
        ['Name', 'Website', 'Industry', 'Phone', 'BillingCity', 'BillingCountry'],
        {
          name: 'Name',
          domain: 'Website',
          industry: 'Industry',
          phone: 'Phone',
          city: 'BillingCity',
          country: 'BillingCountry',
        },
      ),
    },
  },
  apiVariants: {},
  settings: {},
  requiredIntegrationFields: [],
  // Revoking a replaced refresh token ends only that approval, and frees one of the user's five.
  revokeSupersededGrants: true,
  quirks: [
    'No `expires_in`: tokens are assumed to live the default 2-hour session; a 401 `INVALID_SESSION_ID` refreshes and retries.',
    "The API host is the connection's `instance_url` (`extras.instanceUrl`), re-read on every refresh and checked against `*.salesforce.com`, `*.force.com`.",
    'The account is the org and user from the identity URL `id`.',
    'At most five approvals (refresh tokens) per user and app: a sixth connect revokes the oldest. A reconnect revokes the grant it replaces.',
    'Request `refresh_token` (or `offline_access`) to get a refresh token; `full` alone has none.',
    'Incremental runs filter on `SystemModstamp`; deletions come from `queryAll` (`IsDeleted = TRUE`).',
  ],
};
