import type { ProviderDefinitionInput } from '../provider-definition.js';

/**
 * Zoho CRM, every data centre. Sources: authorization
 * https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html, data centres
 * https://zoho.com/accounts/protocol/oauth/multi-dc.html and
 * https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html, tokens
 * https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html, revocation
 * https://zoho.com/accounts/protocol/oauth/revoke-refresh-token.html, records
 * https://www.zoho.com/crm/developer/docs/api/v7/get-records.html, deleted records
 * https://www.zoho.com/crm/developer/docs/api/v7/get-deleted-records.html.
 */

const VERSION = 'v8';

/**
 * Reading a module: "service_name.scope_name.operation_type", where the operation "can be ALL,
 * CREATE, READ, UPDATE, DELETE (ALL gives access to perform all operations)", and `modules.ALL`
 * covers every module (https://www.zoho.com/crm/developer/docs/api/v8/scopes.html).
 */
function moduleReadScope(name: string) {
  const scope = `ZohoCRM.modules.${name.toLowerCase()}`;
  return {
    anyOf: [`${scope}.READ`, `${scope}.ALL`, 'ZohoCRM.modules.READ', 'ZohoCRM.modules.ALL'],
  };
}

/** A CRM module: numbered pages up to 2,000 records, then page tokens; changes by If-Modified-Since. */
function module(name: string, fields: Record<string, string>) {
  const perPage = {
    pageParam: 'page',
    limitParam: 'per_page',
    limit: 200, // "The default and the maximum possible value is 200"
    hasMorePath: 'info.more_records',
  };
  return {
    scopes: [moduleReadScope(name)],
    path: `/crm/${VERSION}/${name}`,
    // `fields` is "mandatory when fetching all records" (at most 50).
    query: { fields: [...new Set([...Object.values(fields), 'Modified_Time'])].join(',') },
    itemsPath: 'data',
    idField: 'id',
    updatedAtField: 'Modified_Time',
    pagination: {
      type: 'page' as const,
      ...perPage,
      // "You can use the 'page' param to fetch up to 2000 records without 'page_token'."
      tokenAfterPages: {
        pages: 10,
        tokenParam: 'page_token',
        nextTokenPath: 'info.next_page_token',
      },
    },
    // A page token lives 24 hours: "EXPIRED_VALUE … The token given has expired".
    staleCursor: [{ status: 400, bodyPath: 'code', equals: 'EXPIRED_VALUE' }],
    // 304 Not Modified: nothing changed; 204: nothing at all.
    incremental: { headers: { 'If-Modified-Since': '{since}' } },
    deletions: {
      path: `/crm/${VERSION}/${name}/deleted`,
      query: { type: 'all' },
      headers: { 'If-Modified-Since': '{since}' },
      pagination: { type: 'page' as const, ...perPage },
    },
    // The documented If-Modified-Since form: `2019-07-25T15:26:49+05:30`.
    since: { format: 'iso_offset' as const, lookBackSeconds: 60 },
    fields,
  };
}

export const zohoProvider: ProviderDefinitionInput = {
  name: 'zoho',
  displayName: 'Zoho CRM',
  kind: 'oauth2',
  docsUrl: 'https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html',
  auth: {
    // Users of every data centre start at the US accounts server and are redirected home.
    authorizationUrl: 'https://accounts.zoho.com/oauth/v2/auth',
    tokenUrl: 'https://accounts.zoho.com/oauth/v2/token',
    revocationUrl: 'https://accounts.zoho.com/oauth/v2/token/revoke',
    // Scopes are requested comma-separated (granted ones may come back space-separated).
    scopeSeparator: ',',
    tokenEndpointAuthMethod: 'client_secret_post',
    // PKCE is documented for mobile and desktop apps only.
    pkce: false,
    // "To get a refresh token every time … include access_type=offline and prompt=consent".
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    incrementalAuthorizationParams: {},
    defaultTokenLifetimeSeconds: 3600,
    // Refresh tokens do not expire (at most 20 per user and client; the 21st replaces the first).
    refreshTokenIdleDays: null,
    tokenHostFromCallback: {
      param: 'accounts-server',
      extra: 'accountsServer',
      allowedHosts: [
        'accounts.zoho.com',
        'accounts.zoho.eu',
        'accounts.zoho.in',
        'accounts.zoho.com.au',
        'accounts.zoho.jp',
        'accounts.zohocloud.ca',
        'accounts.zoho.sa',
        // (accounts.zoho.uk is listed by Zoho Accounts, but no UK API domain is documented.)
        'accounts.zoho.com.cn',
      ],
    },
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
    // Zoho answers token errors with HTTP 200 and a bare `error`.
    errors: [
      // "When you generate an access token using a revoked refresh token, the system returns the 'invalid_code' error."
      { status: 200, bodyPath: 'error', equals: 'invalid_code', means: 'dead_grant' },
      { status: 200, bodyPath: 'error', equals: 'invalid_client', means: 'client_rejected' },
      // The token throttle (10 per 10 minutes), also HTTP 200.
      { status: 200, bodyPath: 'error', equals: 'Access Denied', means: 'transient' },
    ],
  },
  // POST …/oauth/v2/token/revoke with the token: {"status":"success"}.
  revocation: 'rfc7009',
  // The organisation, then the current user in it.
  account: {
    type: 'http',
    path: `/crm/${VERSION}/org`,
    idPath: 'org.0.id',
    namePath: 'org.0.company_name',
    then: {
      path: `/crm/${VERSION}/users?type=CurrentUser`,
      idPath: 'users.0.id',
      emailPath: 'users.0.email',
      namePath: 'users.0.full_name',
    },
  },
  api: {
    // Each data centre's API domain comes back as `api_domain`.
    baseUrlFromExtra: 'apiDomain',
    // Reading a module's records: its READ scope (or ALL, or all modules'), as the models.
    proxyRoutes: ['Contacts', 'Accounts'].map((name) => ({
      pathPrefix: `/crm/${VERSION}/${name}`,
      methods: ['GET' as const],
      scopes: [moduleReadScope(name)],
    })),
    allowedHosts: [
      '*.zohoapis.com',
      '*.zohoapis.eu',
      '*.zohoapis.in',
      '*.zohoapis.com.au',
      '*.zohoapis.jp',
      '*.zohoapis.ca',
      '*.zohoapis.sa',
      '*.zohoapis.com.cn',
    ],
    // "Authorization: Zoho-oauthtoken {access_token}"
    authorizationScheme: 'Zoho-oauthtoken',
    models: {
      contacts: module('Contacts', {
        firstName: 'First_Name',
        lastName: 'Last_Name',
        email: 'Email',
        phone: 'Phone',
        accountName: 'Account_Name',
      }),
      companies: module('Accounts', {
        name: 'Account_Name',
        website: 'Website',
        industry: 'Industry',
        phone: 'Phone',
      }),
    },
  },
  apiVariants: {},
  settings: {},
  requiredIntegrationFields: [],
  // Revoking a refresh token revokes only it and its access tokens.
  revokeSupersededGrants: true,
  quirks: [
    "Every data centre: the redirect's `accounts-server` (checked against Zoho's accounts hosts) receives the code exchange, refreshes and revocation; kept as `extras.accountsServer`.",
    "API calls go to the token answer's `api_domain` (`extras.apiDomain`) with `Authorization: Zoho-oauthtoken`.",
    'Token errors come back as HTTP 200: `invalid_code` is a dead grant (`needs_reauth` at once).',
    '`access_type=offline` and `prompt=consent` on every authorization; refresh answers carry no refresh token.',
    'Numbered pages reach 2,000 records, page tokens the rest; incremental runs send `If-Modified-Since` (304: nothing changed); deletions from `/deleted`.',
  ],
};
