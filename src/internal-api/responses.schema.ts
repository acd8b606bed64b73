import { z } from 'zod';

/**
 * The internal API's response bodies. Views are typed by these (a view that
 * drifts does not compile) and the OpenAPI document is generated from them.
 */
const timestamp = z.iso.datetime({ offset: true });
const id = z.uuid();

export const connectionSchema = z
  .object({
    id,
    tenantId: z.string(),
    integration: z.string(),
    provider: z.string(),
    status: z.enum(['pending', 'active', 'needs_reauth', 'revoked']),
    scopes: z.array(z.string()),
    missingScopes: z
      .array(z.string())
      .describe(
        "Scopes the integration's synced models need that the grant lacks (their syncs fail with insufficient_scope): a connect session with this connectionId asks for them",
      ),
    account: z.object({
      id: z.string(),
      email: z.string().optional(),
      name: z.string().optional(),
    }),
    endUserId: z.string().nullable(),
    expiresAt: timestamp.nullable().describe('When the current access token expires'),
    lastRefreshedAt: timestamp.nullable(),
    nextRefreshAt: timestamp
      .nullable()
      .describe('When the proactive sweep will refresh it; null unless active'),
    refreshFailures: z.number().int().describe('Refresh failures in a row (0 after a success)'),
    lastRefreshError: z
      .string()
      .nullable()
      .describe('The error code of the last failed refresh; null after a success'),
    refreshRetryAt: timestamp
      .nullable()
      .describe(
        'Set while refreshes are held after a failure that retrying at once does not fix (1 min, doubling to 1 h): no provider call before then, token reads that need a refresh answer 503 refresh_failing with Retry-After',
      ),
    lastSyncAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Connection' });

export const connectionListSchema = z
  .object({ data: z.array(connectionSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ConnectionList' });

export const tokenSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.string(),
    expiresAt: timestamp,
    scopes: z.array(z.string()),
    extras: z
      .record(z.string(), z.string())
      .describe('Provider values kept from the token response (instanceUrl, apiDomain, hubId…)'),
    minValidityClampedTo: z
      .number()
      .int()
      .optional()
      .describe(
        "Present when minValiditySeconds asked for more than the provider's tokens last: the validity applied instead (their lifetime less a tenth: at least a minute, at most a quarter), so a burst of such reads makes one refresh",
      ),
  })
  .meta({ id: 'AccessToken' });

export const syncRunSchema = z
  .object({
    id,
    model: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    trigger: z.enum(['manual', 'scheduled']),
    full: z.boolean(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    recordsFetched: z.number().int(),
    recordsUpserted: z.number().int(),
    recordsDeleted: z.number().int(),
    pages: z.number().int(),
    executions: z.number().int(),
    attemptsMade: z.number().int(),
    error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  })
  .meta({ id: 'SyncRun' });

export const syncRunListSchema = z
  .object({ data: z.array(syncRunSchema) })
  .meta({ id: 'SyncRunList' });

export const syncsTriggeredSchema = z
  .object({ syncRunIds: z.array(id) })
  .meta({ id: 'SyncsTriggered' });

export const syncedRecordSchema = z
  .object({
    id: z.string().describe("The provider's id of the record"),
    fields: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("The record in the model's own field names, where it maps them"),
    data: z.unknown().describe("The provider's item as it came"),
    providerUpdatedAt: timestamp.nullable(),
    modifiedAt: timestamp.describe('When the broker last stored a change to it'),
    deletedAt: timestamp.nullable(),
  })
  .meta({ id: 'SyncedRecord' });

export const recordPageSchema = z
  .object({ data: z.array(syncedRecordSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'RecordPage' });

export const providerSchema = z
  .object({
    name: z.string(),
    displayName: z.string(),
    kind: z.enum(['oauth2', 'oidc']),
    docsUrl: z.string(),
    authorizationHost: z.string().nullable(),
    authorizationUrl: z.string().nullable(),
    issuer: z.string().nullable(),
    tokenUrl: z.string().nullable(),
    revocationUrl: z.string().nullable(),
    scopeSeparator: z.string(),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']),
    pkce: z.boolean(),
    defaultTokenLifetimeSeconds: z.number().int(),
    refreshTokenIdleDays: z.number().int().nullable(),
    tokenExtras: z.array(z.string()),
    account: z.string(),
    api: z
      .object({
        baseUrl: z.string().nullable(),
        baseUrlFromExtra: z.string().nullable(),
        allowedHosts: z.array(z.string()),
        models: z.array(
          z.object({
            name: z.string(),
            incremental: z.boolean(),
            tombstones: z.boolean(),
            fields: z.array(z.string()),
          }),
        ),
      })
      .nullable(),
    apiVariants: z.array(z.string()),
    settings: z.record(
      z.string(),
      z.object({ default: z.string().nullable(), description: z.string() }),
    ),
    requiredIntegrationFields: z.array(z.string()),
    quirks: z.array(z.string()),
  })
  .meta({ id: 'Provider' });

export const providerListSchema = z
  .object({ data: z.array(providerSchema) })
  .meta({ id: 'ProviderList' });

export const integrationSchema = z
  .object({
    key: z.string(),
    provider: z.string(),
    scopes: z.array(z.string()),
    requiredScopes: z.array(z.string()),
    requireFinalize: z
      .boolean()
      .describe(
        'Connections are stored only when your backend finalizes (the default; false only when the integrations file says so)',
      ),
    models: z.array(z.string()),
  })
  .meta({ id: 'Integration' });

export const integrationListSchema = z
  .object({ data: z.array(integrationSchema) })
  .meta({ id: 'IntegrationList' });

export const auditRecordSchema = z
  .object({
    id: z.string().describe('Increasing; the next page starts after it'),
    at: timestamp,
    action: z
      .string()
      .describe('token.read, token.read_refused, token.refreshed, connection.revoked…'),
    connectionId: z.string().nullable(),
    tenantId: z.string().nullable(),
    serviceKeyId: z.string().nullable().describe('The service key that acted, when one did'),
    requestId: z.string().nullable().describe('The x-request-id of the request behind the row'),
    tokenFingerprint: z
      .string()
      .nullable()
      .describe(
        'Keyed HMAC-SHA256 of the access token involved (`<key id>:<base64url>`), never the token',
      ),
    detail: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .nullable(),
    batch: z
      .string()
      .nullable()
      .describe('The hash-chained batch the row was committed in (`npm run cli -- audit verify`)'),
  })
  .meta({ id: 'AuditRecord' });

export const auditPageSchema = z
  .object({ data: z.array(auditRecordSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });

export type ConnectionDto = z.infer<typeof connectionSchema>;
export type TokenDto = z.infer<typeof tokenSchema>;
export type SyncRunDto = z.infer<typeof syncRunSchema>;
export type SyncedRecordDto = z.infer<typeof syncedRecordSchema>;
export type ProviderDto = z.infer<typeof providerSchema>;
export type IntegrationDto = z.infer<typeof integrationSchema>;
export type AuditRecordDto = z.infer<typeof auditRecordSchema>;
export type AuditPageDto = z.infer<typeof auditPageSchema>;
