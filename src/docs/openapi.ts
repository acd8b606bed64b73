import { z } from 'zod';
import {
  connectSessionCreatedSchema,
  connectSessionStatusSchema,
  createConnectSessionSchema,
  finalizeConnectSessionSchema,
  finalizeResultSchema,
} from '../connect/connect.dto.js';
import { errorEnvelopeSchema } from '../common/errors/error-envelope.schema.js';
import { livenessSchema, readinessSchema } from '../health/health.dto.js';
import {
  listConnectionsQuerySchema,
  rejectedTokenBodySchema,
  tokenQuerySchema,
} from '../internal-api/connections.dto.js';
import { auditQuerySchema } from '../internal-api/audit.dto.js';
import {
  auditPageSchema,
  auditRecordSchema,
  connectionListSchema,
  connectionSchema,
  integrationListSchema,
  integrationSchema,
  providerListSchema,
  providerSchema,
  recordPageSchema,
  syncedRecordSchema,
  syncRunListSchema,
  syncRunSchema,
  syncsTriggeredSchema,
  tokenSchema,
} from '../internal-api/responses.schema.js';
import {
  listSyncsQuerySchema,
  recordsQuerySchema,
  triggerSyncSchema,
} from '../internal-api/syncs.dto.js';
import { componentSchemas, operation } from './openapi-builder.js';
import { proxyOperations } from './openapi-proxy.js';
import { examples } from './openapi-examples.js';

/**
 * The OpenAPI description of the HTTP contract. Request and response bodies
 * come from the zod schemas that validate requests and type the views, so
 * they cannot drift; a test checks every route is here with its access rule.
 */
const connectionId = { name: 'id', description: 'The connection id', uuid: true };
const sessionId = { name: 'id', description: 'The connect session id', uuid: true };

export const RESPONSE_SCHEMAS = [
  errorEnvelopeSchema,
  connectSessionCreatedSchema,
  connectSessionStatusSchema,
  finalizeResultSchema,
  providerSchema,
  providerListSchema,
  integrationSchema,
  integrationListSchema,
  connectionSchema,
  connectionListSchema,
  tokenSchema,
  syncsTriggeredSchema,
  syncRunSchema,
  syncRunListSchema,
  syncedRecordSchema,
  recordPageSchema,
  auditRecordSchema,
  auditPageSchema,
  livenessSchema,
  readinessSchema,
];

export function buildOpenApiDocument(publicUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Token Broker',
      version: '1',
      description:
        'Connect third-party accounts over OAuth2, keep their tokens encrypted and fresh, and sync their data. ' +
        'Internal endpoints take `Authorization: Bearer <service key>` (`npm run cli -- keys create`). ' +
        'Every error is `{"error":{"code","message","requestId"}}` with a stable `code`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: publicUrl }],
    tags: [
      { name: 'Connect', description: 'Connect sessions and the browser flow' },
      { name: 'Connections', description: 'Connections and their tokens' },
      { name: 'Sync', description: 'Sync runs and synced records' },
      { name: 'Catalogue', description: 'Providers and configured integrations' },
      { name: 'Audit', description: 'Who read or changed which connection, hash-chained' },
      { name: 'Proxy', description: "The provider's API through the broker, token added" },
      { name: 'Operations', description: 'Health, metrics, documentation, frontend snippet' },
    ],
    components: {
      securitySchemes: {
        serviceKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'A service key from `npm run cli -- keys create`',
        },
      },
      schemas: componentSchemas(RESPONSE_SCHEMAS),
    },
    paths: {
      '/v1/connect-sessions': {
        post: operation({
          operationId: 'createConnectSession',
          tag: 'Connect',
          summary: 'Create a connect session for one end user',
          description:
            'Your backend calls this when the user presses "Connect CRM" and hands the browser `connectUrl` (or the whole answer, for the frontend snippet). Without `returnTo` the flow ends on a result page that posts the result to the opener (popup mode). `endUserId`, the logged-in user, is required unless the integration sets `requireFinalize: false` (400 `end_user_required`): finalize checks it.',
          access: 'connect',
          body: {
            schema: createConnectSessionSchema,
            required: true,
            example: {
              integration: 'hubspot-prod',
              tenantId: 'acme',
              endUserId: 'user-42',
              returnTo: 'https://app.example.com/settings/crm',
            },
          },
          responses: {
            '201': {
              description: 'Created',
              schema: connectSessionCreatedSchema,
              example: examples.connectSessionCreated,
            },
          },
        }),
      },
      '/v1/connect-sessions/{id}': {
        get: operation({
          operationId: 'getConnectSession',
          tag: 'Connect',
          summary: 'How a connect session ended',
          description:
            '`pending`, `completed` (with `connectionId`), `awaiting_finalize`, `failed` (with the fixed `error` code) or `expired`. The frontend snippet polls it with the session token when a provider cut the popup off from its opener (Cross-Origin-Opener-Policy); CORS allows the origins of ALLOWED_RETURN_URLS.',
          access: 'connect-or-session',
          pathParams: [sessionId],
          responses: {
            '200': {
              description: 'The status',
              schema: connectSessionStatusSchema,
              example: examples.connectSessionStatus,
            },
          },
        }),
      },
      '/v1/connect-sessions/{id}/finalize': {
        post: operation({
          operationId: 'finalizeConnectSession',
          tag: 'Connect',
          summary: 'Confirm the end user of a parked grant (requireFinalize, the default)',
          description:
            'Every integration requires this unless it sets `requireFinalize: false`: a connect link opened by someone else must not attach their account to the link owner. The callback parked the grant and sent the browser back with `finalize=<token>&connect_session_id=<id>` (or posted both to the opener); your backend, which knows who is logged in, confirms with one request, and the connection is stored. A different end user → 403 `end_user_mismatch` and the grant is discarded.',
          access: 'connect',
          pathParams: [sessionId],
          body: {
            schema: finalizeConnectSessionSchema,
            required: true,
            example: { finalizeToken: 'tbfz_…', endUserId: 'user-42' },
          },
          responses: {
            '200': {
              description: 'Stored',
              schema: finalizeResultSchema,
              example: examples.finalizeResult,
            },
          },
        }),
      },
      '/v1/connect': {
        get: operation({
          operationId: 'startConnectFlow',
          tag: 'Connect',
          summary: 'Browser: start the authorization flow',
          description:
            'Binds the flow to this browser with a cookie and redirects to the provider.',
          access: 'public',
          query: z.object({ session: z.string().describe('The connect session token') }),
          responses: { '302': { description: 'To the provider’s authorization page' } },
        }),
      },
      '/v1/oauth/callback/{integrationKey}': {
        get: operation({
          operationId: 'oauthCallback',
          tag: 'Connect',
          summary: 'Provider redirect: end the flow',
          description:
            '303 to `returnTo` with `finalize` and `connect_session_id` (for your backend to finalize; `connection_id` when the integration sets `requireFinalize: false`), or `error` (a fixed code); without `returnTo`, a result page that posts `{type: "token-broker:connect-result", …}` to the allowed opener origins.',
          access: 'public',
          pathParams: [{ name: 'integrationKey', description: 'The integration' }],
          responses: {
            '303': { description: 'To the return URL' },
            '200': { description: 'Result page (popup mode)', contentType: 'text/html' },
          },
        }),
      },
      '/v1/providers': {
        get: operation({
          operationId: 'listProviders',
          tag: 'Catalogue',
          summary: 'The built-in provider catalogue (no secrets)',
          access: 'any',
          responses: { '200': { description: 'Providers', schema: providerListSchema } },
        }),
      },
      '/v1/integrations': {
        get: operation({
          operationId: 'listIntegrations',
          tag: 'Catalogue',
          summary: 'The integrations this key may use (no secrets)',
          access: 'any',
          responses: {
            '200': {
              description: 'Integrations',
              schema: integrationListSchema,
              example: { data: [examples.integration] },
            },
          },
        }),
      },
      '/v1/connections': {
        get: operation({
          operationId: 'listConnections',
          tag: 'Connections',
          summary: 'Connections, newest first, paginated',
          access: 'manage',
          query: listConnectionsQuerySchema,
          responses: {
            '200': {
              description: 'A page',
              schema: connectionListSchema,
              example: { data: [examples.connection], nextCursor: null },
            },
          },
        }),
      },
      '/v1/connections/{id}': {
        get: operation({
          operationId: 'getConnection',
          tag: 'Connections',
          summary: 'One connection (no secrets)',
          access: 'manage',
          pathParams: [connectionId],
          responses: {
            '200': {
              description: 'The connection',
              schema: connectionSchema,
              example: examples.connection,
            },
          },
        }),
        delete: operation({
          operationId: 'disconnect',
          tag: 'Connections',
          summary: 'Disconnect: delete the credentials, revoke at the provider',
          access: 'manage',
          pathParams: [connectionId],
          responses: { '204': { description: 'Disconnected' } },
        }),
      },
      '/v1/connections/{id}/token': {
        get: operation({
          operationId: 'getAccessToken',
          tag: 'Connections',
          summary: 'A currently valid access token',
          description:
            "Refreshed first when it would expire within `minValiditySeconds` (one refresh per connection across replicas). A `minValiditySeconds` longer than the provider's tokens last is clamped to their lifetime less a tenth and the answer says so (`minValidityClampedTo`), so a burst of such reads makes one refresh. 409 `needs_reauth` once the provider refused the grant; every read is audited.",
          access: 'token',
          pathParams: [connectionId],
          query: tokenQuerySchema,
          responses: {
            '200': {
              description: 'The token (Cache-Control: no-store)',
              schema: tokenSchema,
              example: examples.token,
            },
            '409': {
              description: 'The user must reconnect (`needs_reauth`)',
              schema: errorEnvelopeSchema,
              example: examples.error,
            },
          },
        }),
      },
      '/v1/connections/{id}/token/rejected': {
        post: operation({
          operationId: 'replaceRejectedToken',
          tag: 'Connections',
          summary: 'The provider refused my token: a replacement (one refresh per rejected token)',
          description:
            'Send the access token the provider answered 401 to. If the stored token is already another one, it is returned without a refresh; otherwise one refresh is shared by every caller and replica reporting that same token (they all get the same new token). The token is compared by keyed fingerprint and never stored or logged. The forced-refresh cooldown applies: a refresh within it for anything but this token answers 429 `refresh_cooldown` with Retry-After. Audited as `token.rejected_replaced` before it is answered. Same answer as the token endpoint.',
          access: 'token',
          pathParams: [connectionId],
          body: {
            schema: rejectedTokenBodySchema,
            required: true,
            example: { accessToken: 'eyJhbGciOi…' },
          },
          responses: {
            '200': {
              description: 'The replacement token (Cache-Control: no-store)',
              schema: tokenSchema,
              example: examples.token,
            },
            '409': {
              description: 'The user must reconnect (`needs_reauth`)',
              schema: errorEnvelopeSchema,
              example: examples.error,
            },
          },
        }),
      },
      '/v1/connections/{id}/refresh': {
        post: operation({
          operationId: 'refreshConnection',
          tag: 'Connections',
          summary: 'Refresh now (single-flight, with a cooldown)',
          access: 'token',
          pathParams: [connectionId],
          responses: {
            '200': {
              description: 'Refreshed',
              schema: connectionSchema,
              example: examples.connection,
            },
          },
        }),
      },
      '/v1/connections/{id}/syncs': {
        post: operation({
          operationId: 'startSync',
          tag: 'Sync',
          summary: 'Start sync runs (every synced model, or one)',
          access: 'sync',
          pathParams: [connectionId],
          body: { schema: triggerSyncSchema, required: false, example: { model: 'contacts' } },
          responses: {
            '202': {
              description: 'Queued',
              schema: syncsTriggeredSchema,
              example: examples.syncsTriggered,
            },
          },
        }),
        get: operation({
          operationId: 'listSyncRuns',
          tag: 'Sync',
          summary: 'Sync runs, newest first',
          access: 'sync',
          pathParams: [connectionId],
          query: listSyncsQuerySchema,
          responses: {
            '200': {
              description: 'Runs',
              schema: syncRunListSchema,
              example: { data: [examples.syncRun] },
            },
          },
        }),
      },
      '/v1/connections/{id}/syncs/{runId}/cancel': {
        post: operation({
          operationId: 'cancelSyncRun',
          tag: 'Sync',
          summary: 'Stop a queued or running run within one page (status cancelled)',
          description:
            'The run is `cancelled` at once; a running execution stops at its next commit and writes nothing more. 409 `sync_run_finished` when it already ended.',
          access: 'sync',
          pathParams: [connectionId, { name: 'runId', description: 'The sync run id', uuid: true }],
          responses: {
            '200': {
              description: 'Cancelled',
              schema: syncRunSchema,
              example: { ...examples.syncRun, status: 'cancelled' },
            },
          },
        }),
      },
      '/v1/connections/{id}/records/{model}': {
        get: operation({
          operationId: 'listRecords',
          tag: 'Sync',
          summary: 'Synced records in a stable order; deleted ones carry deletedAt',
          access: 'sync',
          pathParams: [connectionId, { name: 'model', description: 'A model, e.g. contacts' }],
          query: recordsQuerySchema,
          responses: {
            '200': {
              description: 'A page',
              schema: recordPageSchema,
              example: { data: [examples.record], nextCursor: null },
            },
          },
        }),
      },
      '/v1/proxy/{connectionId}/{path}': proxyOperations(),
      '/v1/audit': {
        get: operation({
          operationId: 'listAudit',
          tag: 'Audit',
          summary: "The audit trail, oldest first, of the key's tenants",
          description:
            'Token reads, refreshes (and what triggered them), forced refreshes, connects, disconnects, revocations and refused reads, each with the caller, tenant, connection, request id and a keyed fingerprint of the token (never the token). Rows are append-only and hash-chained per batch (`npm run cli -- audit verify`).',
          access: 'manage',
          query: auditQuerySchema,
          responses: {
            '200': {
              description: 'A page; pass `nextCursor` as `after` for the next',
              schema: auditPageSchema,
              example: { data: [examples.auditRecord], nextCursor: null },
            },
          },
        }),
      },
      '/health/live': {
        get: operation({
          operationId: 'liveness',
          tag: 'Operations',
          summary: 'The process is up',
          access: 'public',
          responses: {
            '200': { description: 'Up', schema: livenessSchema, example: { status: 'ok' } },
          },
        }),
      },
      '/health/ready': {
        get: operation({
          operationId: 'readiness',
          tag: 'Operations',
          summary:
            'Ready to serve tokens: PostgreSQL answers (Redis down is `degraded`, still 200)',
          access: 'public',
          responses: {
            '200': {
              description: 'Ready',
              schema: readinessSchema,
              example: { status: 'ok', checks: { database: 'ok', redis: 'ok' } },
            },
            '503': { description: 'Not ready, or shutting down', schema: readinessSchema },
          },
        }),
      },
      '/metrics': {
        get: operation({
          operationId: 'metrics',
          tag: 'Operations',
          summary: 'Prometheus metrics',
          description:
            'On the internal listener when `INTERNAL_PORT` is set. With `METRICS_TOKEN` set, it needs `Authorization: Bearer <METRICS_TOKEN>`; without it, 401 `metrics_token_required`.',
          access: 'public',
          responses: { '200': { description: 'Exposition format', contentType: 'text/plain' } },
        }),
      },
      '/docs': {
        get: operation({
          operationId: 'docsPage',
          tag: 'Operations',
          summary: 'This document, rendered (Swagger UI, served offline)',
          access: 'public',
          responses: { '200': { description: 'HTML', contentType: 'text/html' } },
        }),
      },
      '/docs/openapi.json': {
        get: operation({
          operationId: 'openApiDocument',
          tag: 'Operations',
          summary: 'This document',
          access: 'public',
          responses: { '200': { description: 'OpenAPI 3.1', contentType: 'application/json' } },
        }),
      },
      '/docs/assets/{file}': {
        get: operation({
          operationId: 'docsAsset',
          tag: 'Operations',
          summary: 'Assets of the rendered document',
          access: 'public',
          pathParams: [{ name: 'file', description: 'An asset name' }],
          responses: { '200': { description: 'CSS or JavaScript', contentType: 'text/plain' } },
        }),
      },
      '/admin/queues': {
        get: operation({
          operationId: 'queueDashboard',
          tag: 'Operations',
          summary: 'The queue dashboard (Bull Board); its API lives under /admin/queues/api',
          description:
            'Needs a `manage` service key: as a bearer header, or from a browser by signing in at /admin/login (an 8-hour session cookie, checked against the key on every request).',
          access: 'manage',
          responses: { '200': { description: 'The dashboard', contentType: 'text/html' } },
        }),
      },
      '/admin/login': {
        get: operation({
          operationId: 'adminLoginPage',
          tag: 'Operations',
          summary: 'Sign-in form for the queue dashboard',
          access: 'public',
          responses: { '200': { description: 'HTML', contentType: 'text/html' } },
        }),
        post: operation({
          operationId: 'adminLogin',
          tag: 'Operations',
          summary: 'Sign in with a manage service key (form post); sets the session cookie',
          access: 'public',
          responses: {
            '303': { description: 'To the dashboard, or back to the form with a notice' },
          },
        }),
      },
      '/admin/logout': {
        post: operation({
          operationId: 'adminLogout',
          tag: 'Operations',
          summary: 'End the dashboard session',
          access: 'public',
          responses: { '303': { description: 'To the sign-in form' } },
        }),
      },
      '/sdk/connect.js': {
        get: operation({
          operationId: 'connectSnippet',
          tag: 'Operations',
          summary: 'The frontend connect snippet (a dependency-free ES module)',
          access: 'public',
          responses: { '200': { description: 'JavaScript', contentType: 'text/javascript' } },
        }),
      },
    },
  };
}
