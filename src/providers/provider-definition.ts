import { z } from 'zod';
import { hostMatches } from '../common/url-policy.js';
import { apiRateLimitSchema } from './rate-limit.schema.js';
import { hostPattern, modelSchema, neededScopeSchema, slug } from './api-model.schema.js';

/**
 * A built-in provider: what we know about one third-party API's OAuth2 and
 * REST behaviour, as data. Every field is required (an empty list or `null`
 * says "none" explicitly), so a definition cannot silently inherit a wrong
 * default. Validated when the catalogue is built and in a unit test.
 */

const httpsUrl = z
  .string()
  .url()
  .refine((value) => value.startsWith('https://'), 'must be an https URL');

/** A camelCase name callers see under the token API's `extras`. */
const extraName = z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'must be camelCase');

const path = z.string().min(1);
/** One path, or several whose values are joined with `/` (Pipedrive company and user). */
const idPath = z.union([path, z.array(path).min(1)]);

export const accountLookupSchema = z.discriminatedUnion('type', [
  /** The ID token's `sub`, `email` and `name` claims (OIDC). */
  z.strictObject({
    type: z.literal('id_token'),
    /** Claims whose values, joined with `/`, are the id (Microsoft: `tid` and `oid`); default `sub`. */
    idClaims: z.array(z.string().min(1)).min(1).optional(),
    /** Scopes an integration must request for those claims to be in the token (Microsoft: `profile` for `oid`). */
    requiresScopes: z.array(z.string().min(1)).optional(),
  }),
  /**
   * Fields of the token response itself; `idPattern`'s capture groups,
   * joined with `/`, pick the id out of a longer value (Salesforce's `id` URL).
   */
  z.strictObject({
    type: z.literal('token_response'),
    idPath,
    idPattern: z.string().min(1).optional(),
    emailPath: path.optional(),
    namePath: path.optional(),
  }),
  /**
   * A GET with the new access token: `url` absolute, or `path` relative to
   * the API base URL (which follows an integration's `api.baseUrl` and the
   * connection's own host, checked like any API call).
   */
  z.strictObject({
    type: z.literal('http'),
    url: z.string().url().optional(),
    path: z.string().regex(/^\//, 'must start with /').optional(),
    idPath,
    emailPath: path.optional(),
    namePath: path.optional(),
    /**
     * Another lookup whose id is appended (`/`): Zoho's organisation, then
     * its user. Its email and name, if any, win.
     */
    then: z
      .strictObject({
        path: z.string().regex(/^\//, 'must start with /'),
        idPath,
        emailPath: path.optional(),
        namePath: path.optional(),
      })
      .optional(),
  }),
  /** No account identity at the provider: one connection per tenant and end user. */
  z.strictObject({ type: z.literal('end_user') }),
]);

/**
 * A token endpoint answer that is not RFC 6749 §5.2, and what it means:
 * `dead_grant` (the user must reconnect), `client_rejected` (the app's own
 * credentials; never the user's fault) or `transient` (retry later).
 */
export const tokenErrorRuleSchema = z.strictObject({
  /** Only answers with this HTTP status (Zoho's dead grants come with 200). */
  status: z.number().int().min(100).max(599).optional(),
  /** Where the provider's error code is in the JSON body. */
  bodyPath: path,
  equals: z.string().min(1),
  means: z.enum(['dead_grant', 'client_rejected', 'transient']),
});

/** Scopes the calls under one path prefix need (see `proxyRoutes`). */
export const proxyRouteSchema = z.strictObject({
  /** Matched on whole segments, ignoring case and percent-encoding. */
  pathPrefix: z.string().regex(/^\//, 'must start with /'),
  methods: z
    .array(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))
    .min(1)
    .optional(),
  scopes: z.array(neededScopeSchema).min(1),
});

export const providerApiSchema = z
  .strictObject({
    /**
     * The API's known limits per connection (the provider's documentation),
     * its integrations' default `rateLimit`; absent: none known.
     */
    rateLimit: apiRateLimitSchema.optional(),
    /** A fixed API base URL… */
    baseUrl: httpsUrl.optional(),
    /** …or the connection's own, from a token extra (Salesforce `instanceUrl`). */
    baseUrlFromExtra: extraName.optional(),
    /**
     * Hosts an API base URL taken from a token response may name; checked
     * before any token is sent there.
     */
    allowedHosts: z.array(hostPattern),
    /** The Authorization scheme API calls use, when not the token type (Zoho: `Zoho-oauthtoken`). */
    authorizationScheme: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]*$/)
      .optional(),
    models: z.record(slug, modelSchema),
    /**
     * Scopes calls under a path prefix need: the proxy refuses a call whose
     * scope was not granted (`insufficient_scope`); the longest prefix
     * that lists the call's method (all methods when none are listed) wins.
     */
    proxyRoutes: z.array(proxyRouteSchema).default([]),
  })
  .superRefine((api, ctx) => {
    // Neither: the integration names the host (a Dynamics 365 organisation), within allowedHosts.
    if (api.baseUrl && api.baseUrlFromExtra)
      ctx.addIssue({ code: 'custom', message: 'give at most one of baseUrl and baseUrlFromExtra' });
    if (!api.baseUrl && api.allowedHosts.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['allowedHosts'],
        message: 'is required when the host is not fixed',
      });
    if (api.baseUrl && !hostMatches(new URL(api.baseUrl).hostname, api.allowedHosts))
      ctx.addIssue({
        code: 'custom',
        path: ['allowedHosts'],
        message: `must include the host of baseUrl`,
      });
  });

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export const providerDefinitionSchema = z
  .strictObject({
    name: slug,
    displayName: z.string().min(1),
    /** `oidc` providers are configured by discovery from their issuer. */
    kind: z.enum(['oauth2', 'oidc']),
    docsUrl: httpsUrl,
    auth: z.strictObject({
      /** OpenID Connect providers: the issuer whose discovery document names the endpoints. */
      issuer: httpsUrl.optional(),
      authorizationUrl: httpsUrl.optional(),
      tokenUrl: httpsUrl.optional(),
      revocationUrl: httpsUrl.optional(),
      /** RFC 6749 §3.3 says space; some providers use commas. */
      scopeSeparator: z.enum([' ', ',']),
      tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']),
      /** PKCE S256 on the authorization request (RFC 7636). */
      pkce: z.boolean(),
      /** Extra authorization request parameters, e.g. `access_type=offline`. */
      authorizationParams: z.record(z.string(), z.string()),
      /**
       * Added when a connect asks for scopes beyond a grant the user already
       * gave (incremental consent): Google's `include_granted_scopes=true`
       * keeps the earlier scopes in the new grant. Empty where the provider
       * has no such parameter.
       */
      incrementalAuthorizationParams: z.record(z.string(), z.string()),
      /** Lifetime assumed when a token response has no `expires_in`. */
      defaultTokenLifetimeSeconds: z.number().int().min(60),
      /** A refresh token unused this long dies at the provider; null when unknown or never. */
      refreshTokenIdleDays: z.number().int().min(1).nullable(),
      /**
       * A provider with data centres names the user's own accounts server in
       * the authorization redirect (Zoho `accounts-server`): the code
       * exchange, refreshes and revocation go there (the token URL's path on
       * that host), once its host is checked; it is kept as the token extra
       * `extra`. Null: the token URL is the same for everyone.
       */
      tokenHostFromCallback: z
        .strictObject({
          param: z.string().min(1),
          extra: extraName,
          allowedHosts: z.array(hostPattern).min(1),
        })
        .nullable(),
    }),
    token: z.strictObject({
      /**
       * Non-secret token response fields kept and returned as `extras`
       * (numbers as strings), re-read on every refresh: name → field.
       */
      extras: z.record(extraName, path),
      /**
       * An OAuth2 (not discovered) provider that returns ID tokens: their
       * issuer, `{tenantid}` standing for the token's own `tid` (Microsoft's
       * multi-tenant issuer). Checked with the audience and expiry; the
       * signature is not, as OpenID Connect Core §3.1.3.7 allows for a token
       * received directly from the token endpoint over TLS. Null: none.
       */
      idTokenIssuer: httpsUrl.nullable(),
      /** Where the granted scopes are: `scope` (a string) or `scopes` (an array). */
      scopesField: z.enum(['scope', 'scopes']),
      /** Requested scopes the provider never lists as granted (`offline_access`, `openid`). */
      neverEchoedScopes: z.array(z.string().min(1)),
      /**
       * How a requested scope is found among the granted ones: the provider
       * may answer another name (Google: `email` as
       * `https://www.googleapis.com/auth/userinfo.email`), a resource prefix
       * (Microsoft: `https://graph.microsoft.com/User.Read` is `User.Read`),
       * or another case.
       */
      scopeMatching: z.strictObject({
        aliases: z.record(z.string().min(1), z.string().min(1)),
        /** Requested scopes ending so are never listed as granted (Microsoft's `/.default`). */
        neverEchoedSuffixes: z.array(z.string().min(1)),
        stripPrefixes: z.array(z.string().min(1)),
        caseInsensitive: z.boolean(),
      }),
      errors: z.array(tokenErrorRuleSchema),
    }),
    /**
     * `rfc7009`: POST to `auth.revocationUrl` (RFC 7009; any 2xx is
     * success); `none`: the provider has no revocation, and disconnect only
     * deletes the credentials.
     */
    revocation: z.enum(['rfc7009', 'none']),
    account: accountLookupSchema,
    api: providerApiSchema.nullable(),
    /** Other APIs an integration may read instead (`api: { variant: dynamics }`). */
    apiVariants: z.record(slug, providerApiSchema),
    /**
     * Values an integration gives (or takes the default of) that fill
     * `{name}` in the provider's URLs: Microsoft's `{tenant}`.
     */
    settings: z.record(
      z.string().regex(/^[a-z][A-Za-z0-9]*$/),
      z.strictObject({
        default: z.string().min(1).optional(),
        pattern: z.string().min(1).refine(compiles, 'is not a regular expression'),
        description: z.string().min(1),
      }),
    ),
    /** Integration fields this provider cannot default and the integrations file must give. */
    requiredIntegrationFields: z.array(z.enum(['authorizationUrl', 'tokenUrl', 'issuer', 'api'])),
    /**
     * Each authorization is its own grant: a refresh token a reconnect
     * replaces, or a grant the callback refuses, is revoked. False where
     * revoking ends every grant of the user and app (Pipedrive uninstalls
     * the app): revoking would take the user's other connection with it.
     */
    revokeSupersededGrants: z.boolean(),
    /** What is unusual about this provider, for the README's provider table. */
    quirks: z.array(z.string().min(1)),
  })
  .superRefine((provider, ctx) => {
    const needs = new Set(provider.requiredIntegrationFields);
    if (provider.kind === 'oidc' && !provider.auth.issuer && !needs.has('issuer'))
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'issuer'],
        message: 'is required (or list it in requiredIntegrationFields)',
      });
    if (provider.kind === 'oauth2') {
      for (const field of ['authorizationUrl', 'tokenUrl'] as const) {
        if (!provider.auth[field] && !needs.has(field))
          ctx.addIssue({
            code: 'custom',
            path: ['auth', field],
            message: 'is required (or list it in requiredIntegrationFields)',
          });
      }
    }
    if (provider.auth.tokenHostFromCallback && provider.kind !== 'oauth2')
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'tokenHostFromCallback'],
        message: 'needs kind oauth2 (discovery names one token endpoint)',
      });
    if (
      provider.account.type === 'id_token' &&
      provider.kind !== 'oidc' &&
      !provider.token.idTokenIssuer
    )
      ctx.addIssue({
        code: 'custom',
        path: ['account'],
        message: 'id_token needs kind oidc or token.idTokenIssuer',
      });
  });

export type ProviderDefinition = z.infer<typeof providerDefinitionSchema>;
export type ProviderDefinitionInput = z.input<typeof providerDefinitionSchema>;
export type AccountLookup = z.infer<typeof accountLookupSchema>;
export type TokenErrorRule = z.infer<typeof tokenErrorRuleSchema>;
export type ScopeMatching = ProviderDefinition['token']['scopeMatching'];
export type ProviderApi = z.infer<typeof providerApiSchema>;
export type ProxyRoute = z.infer<typeof proxyRouteSchema>;
export type TokenEndpointAuthMethod = ProviderDefinition['auth']['tokenEndpointAuthMethod'];
export type RevocationStyle = ProviderDefinition['revocation'];
