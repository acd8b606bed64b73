import type { ProviderDefinitionInput } from '../provider-definition.js';

/**
 * Microsoft identity platform, Graph and Dynamics 365. Sources: auth code flow
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow, ID token
 * claims https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference,
 * issuer validation https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens,
 * refresh tokens https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens, Graph
 * scopes https://learn.microsoft.com/en-us/graph/auth-v2-user, contacts delta
 * https://learn.microsoft.com/en-us/graph/api/contact-delta and
 * https://learn.microsoft.com/en-us/graph/delta-query-overview, Dataverse Web API
 * https://learn.microsoft.com/en-us/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
 * and https://learn.microsoft.com/en-us/power-apps/developer/data-platform/webapi/query/page-results.
 */

/** Dataverse requests: "Accept, OData-MaxVersion: 4.0, OData-Version: 4.0, If-None-Match: null". */
const ODATA_HEADERS = {
  'OData-MaxVersion': '4.0',
  'OData-Version': '4.0',
  'If-None-Match': 'null',
  // Up to 5,000 per page is allowed; 500 keeps a page far below the response size the broker reads.
  Prefer: 'odata.maxpagesize=500',
};

/** A Dataverse table: `@odata.nextLink` pages, changes by `modifiedon`, deletions found by full runs. */
function dataverseTable(table: string, idField: string, fields: Record<string, string>) {
  return {
    path: `/api/data/v9.2/${table}`,
    query: { $select: [...new Set([...Object.values(fields), 'modifiedon'])].join(',') },
    headers: ODATA_HEADERS,
    itemsPath: 'value',
    idField,
    updatedAtField: 'modifiedon',
    // "Don't change the @odata.nextLink URL value or append any query options to it."
    pagination: { type: 'next_url' as const, nextUrlPath: '@odata.nextLink' },
    incremental: { query: { $filter: 'modifiedon gt {since}', $orderby: 'modifiedon asc' } },
    since: { format: 'iso_seconds' as const, lookBackSeconds: 60 },
    fields,
  };
}

export const microsoftProvider: ProviderDefinitionInput = {
  name: 'microsoft',
  displayName: 'Microsoft (Graph, Dynamics 365)',
  kind: 'oauth2',
  docsUrl: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
  auth: {
    authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    scopeSeparator: ' ',
    tokenEndpointAuthMethod: 'client_secret_post',
    // "now recommended for all application types, both public and confidential clients"
    pkce: true,
    authorizationParams: { response_mode: 'query' },
    incrementalAuthorizationParams: {},
    defaultTokenLifetimeSeconds: 3600,
    // "90 days for all other scenarios"; unused that long, AADSTS700082.
    refreshTokenIdleDays: 90,
    tokenHostFromCallback: null,
  },
  token: {
    // `common` and `organizations` name no single issuer: each tenant's is this, with its `tid`.
    idTokenIssuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
    extras: {},
    scopesField: 'scope',
    // The answer's `scope` lists the resource's permissions, not (always) the OpenID ones.
    neverEchoedScopes: ['offline_access', 'openid', 'profile', 'email'],
    // "scope=User.Read is equivalent to https://graph.microsoft.com/User.Read"
    scopeMatching: {
      aliases: {},
      // `<resource>/.default` asks for what was consented; the answer lists those permissions.
      neverEchoedSuffixes: ['/.default'],
      stripPrefixes: ['https://graph.microsoft.com/'],
      caseInsensitive: true,
    },
    // Conditional access or MFA the user must pass again: only a new sign-in helps.
    errors: [{ bodyPath: 'error', equals: 'interaction_required', means: 'dead_grant' }],
  },
  // The v2.0 endpoint has no revocation (no revocation_endpoint in its discovery document).
  revocation: 'none',
  // "If you need to share data across services, oid and tid is best."
  // `oid` is only in ID tokens when `profile` is requested.
  account: { type: 'id_token', idClaims: ['tid', 'oid'], requiresScopes: ['openid', 'profile'] },
  api: {
    baseUrl: 'https://graph.microsoft.com',
    allowedHosts: ['graph.microsoft.com'],
    // Contacts: reading needs Contacts.Read (or ReadWrite), changing them Contacts.ReadWrite
    // (https://learn.microsoft.com/en-us/graph/api/user-post-contacts, Permissions).
    proxyRoutes: [
      {
        pathPrefix: '/v1.0/me/contacts',
        methods: ['GET'],
        scopes: [{ anyOf: ['Contacts.Read', 'Contacts.ReadWrite'] }],
      },
      {
        pathPrefix: '/v1.0/me/contacts',
        methods: ['POST', 'PATCH', 'DELETE'],
        scopes: ['Contacts.ReadWrite'],
      },
    ],
    // Outlook resources: 10,000 requests per 10 minutes and 4 at once per app
    // and mailbox (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits);
    // SharePoint and OneDrive answers carry RateLimit-* near the limit
    // (https://learn.microsoft.com/en-us/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online).
    rateLimit: { requests: 10_000, perSeconds: 600, maxConcurrency: 4, headers: 'ratelimit' },
    models: {
      // Outlook contacts, by delta: the first round reads them all, the delta link what changed.
      // Documented for /me/contactFolders/{id}/contacts/delta; /me/contacts/delta covers the
      // default folder (Microsoft Q&A: https://learn.microsoft.com/en-us/answers/questions/1634378).
      contacts: {
        // contact: delta, delegated: least privileged Contacts.Read, higher Contacts.ReadWrite
        // (https://learn.microsoft.com/en-us/graph/api/contact-delta, Permissions).
        scopes: [{ anyOf: ['Contacts.Read', 'Contacts.ReadWrite'] }],
        path: '/v1.0/me/contacts/delta',
        query: {
          $select:
            'displayName,givenName,surname,emailAddresses,businessPhones,mobilePhone,companyName,lastModifiedDateTime',
        },
        itemsPath: 'value',
        idField: 'id',
        updatedAtField: 'lastModifiedDateTime',
        // "Removed instances are represented by their id and an @removed object"
        deletedField: '@removed',
        pagination: { type: 'next_url', nextUrlPath: '@odata.nextLink' },
        syncToken: {
          nextPath: '@odata.deltaLink',
          // 410 Gone, or a 40X with syncStateNotFound: "must restart with a full synchronization".
          expired: [{ status: 410 }, { bodyPath: 'error.code', equals: 'syncStateNotFound' }],
        },
        fields: {
          name: 'displayName',
          firstName: 'givenName',
          lastName: 'surname',
          email: 'emailAddresses.0.address',
          phone: 'businessPhones.0',
          company: 'companyName',
        },
      },
    },
  },
  apiVariants: {
    // Dynamics 365 (Dataverse), on the organisation's own host: `api: { variant: dynamics, baseUrl: … }`.
    // No model scopes here: Dataverse's delegated scope is `<organisation URL>/user_impersonation`,
    // which only the integration knows (give `scopes` on its models in the integrations file).
    dynamics: {
      allowedHosts: ['*.dynamics.com'],
      // Service protection: 6,000 requests per user in a 5-minute sliding
      // window, 52 at once (https://learn.microsoft.com/en-us/power-apps/developer/data-platform/api-limits).
      rateLimit: { requests: 6_000, perSeconds: 300, maxConcurrency: 52, headers: 'dataverse' },
      models: {
        contacts: dataverseTable('contacts', 'contactid', {
          name: 'fullname',
          firstName: 'firstname',
          lastName: 'lastname',
          email: 'emailaddress1',
          phone: 'telephone1',
        }),
        companies: dataverseTable('accounts', 'accountid', {
          name: 'name',
          website: 'websiteurl',
          phone: 'telephone1',
          city: 'address1_city',
        }),
      },
    },
  },
  settings: {
    tenant: {
      default: 'common',
      // common, organizations, consumers, a tenant id (GUID) or a tenant domain.
      pattern: '[A-Za-z0-9][A-Za-z0-9.-]{0,252}',
      description: 'common, organizations, consumers, a tenant id or a tenant domain',
    },
  },
  requiredIntegrationFields: [],
  revokeSupersededGrants: false,
  quirks: [
    'The tenant is a setting (`settings: { tenant: … }`, default `common`); the account is the ID token `tid` and `oid`, checked against the tenant-specific issuer.',
    'Refresh tokens rotate on every use; `offline_access` and `openid` are never echoed in `scope`, and `User.Read` matches `https://graph.microsoft.com/User.Read`.',
    'No revocation endpoint: disconnect deletes the credentials, and its event says `providerRevocation: not_supported`.',
    'Graph `contacts` sync by delta link; Dynamics 365 (`api: { variant: dynamics, baseUrl: https://<org>.crm.dynamics.com }`) syncs `contacts` and `companies` with the OData headers, 500-record pages and `modifiedon` increments.',
  ],
};
