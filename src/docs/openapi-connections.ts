import { errorEnvelopeSchema } from '../common/errors/error-envelope.schema.js';
import {
  listConnectionsQuerySchema,
  rejectedTokenBodySchema,
  tokenQuerySchema,
} from '../internal-api/connections.dto.js';
import { auditQuerySchema } from '../internal-api/audit.dto.js';
import {
  auditPageSchema,
  connectionListSchema,
  connectionSchema,
  integrationListSchema,
  providerListSchema,
  tokenSchema,
} from '../internal-api/responses.schema.js';
import { connectionIdParam, operation } from './openapi-builder.js';
import { examples } from './openapi-examples.js';

/** The token routes' 409: the provider refused the grant. */
const NEEDS_REAUTH = {
  description: 'The user must reconnect (`needs_reauth`)',
  schema: errorEnvelopeSchema,
  example: examples.error,
};

/** The Catalogue, Connections and Audit tags: what can be connected, what is, and who read it. */
export function connectionPaths(): Record<string, unknown> {
  return {
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
        pathParams: [connectionIdParam],
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
        pathParams: [connectionIdParam],
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
        pathParams: [connectionIdParam],
        query: tokenQuerySchema,
        responses: {
          '200': {
            description: 'The token (Cache-Control: no-store)',
            schema: tokenSchema,
            example: examples.token,
          },
          '409': NEEDS_REAUTH,
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
        pathParams: [connectionIdParam],
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
          '409': NEEDS_REAUTH,
        },
      }),
    },
    '/v1/connections/{id}/refresh': {
      post: operation({
        operationId: 'refreshConnection',
        tag: 'Connections',
        summary: 'Refresh now (single-flight, with a cooldown)',
        access: 'token',
        pathParams: [connectionIdParam],
        responses: {
          '200': {
            description: 'Refreshed',
            schema: connectionSchema,
            example: examples.connection,
          },
        },
      }),
    },
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
  };
}
