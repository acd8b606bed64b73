import { z } from 'zod';
import {
  createConnectSessionSchema,
  finalizeConnectSessionSchema,
} from '../connect/connect.dto.js';
import { listConnectionsQuerySchema, tokenQuerySchema } from '../internal-api/connections.dto.js';
import {
  listSyncsQuerySchema,
  recordsQuerySchema,
  triggerSyncSchema,
} from '../internal-api/syncs.dto.js';

/**
 * The OpenAPI description of the HTTP contract. Request bodies and query
 * parameters are generated from the same zod schemas that validate them, so
 * they cannot drift; a test checks that every route is listed here.
 */
type Schema = Record<string, unknown>;

const json = (schema: z.ZodType): Schema =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

function queryParameters(schema: z.ZodObject): Schema[] {
  const shape = json(schema) as { properties?: Record<string, Schema>; required?: string[] };
  return Object.entries(shape.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: shape.required?.includes(name) ?? false,
    schema: property,
  }));
}

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};
const errorResponse = {
  description: 'Error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};
const ok = (description: string, schema: Schema = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const service = (action: string | undefined, operation: Schema): Schema => ({
  security: [{ serviceKey: [] }],
  'x-required-action': action ?? 'any',
  ...operation,
  responses: { ...(operation.responses as Schema), '4XX': errorResponse, '5XX': errorResponse },
});

export function buildOpenApiDocument(publicUrl: string): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Token Broker',
      version: '1',
      description:
        'Connect third-party accounts over OAuth2, keep their tokens encrypted and fresh, and sync their data. Internal endpoints take `Authorization: Bearer <service key>`.',
      license: { name: 'MIT' },
    },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        serviceKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'A service key from `npm run cli -- keys create`',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'requestId'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                requestId: { type: 'string' },
              },
            },
          },
        },
      },
    },
    paths: {
      '/v1/connect-sessions': {
        post: service('connect', {
          summary: 'Create a connect session for one end user',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: json(createConnectSessionSchema) } },
          },
          responses: { '201': ok('{id, token, connectUrl, expiresAt}') },
        }),
      },
      '/v1/connect-sessions/{id}/finalize': {
        post: service('connect', {
          summary:
            'requireFinalize integrations: confirm the end user; a match stores the grant, a mismatch revokes it (403 end_user_mismatch)',
          parameters: [idParameter],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: json(finalizeConnectSessionSchema) } },
          },
          responses: { '200': ok('{connectionId, status}') },
        }),
      },
      '/v1/connect-sessions/{id}': {
        get: service('connect', {
          summary:
            "A connect session's status: pending, completed (connectionId), awaiting_finalize, failed (error) or expired. Also readable with the session's own token (the frontend snippet's fallback when a popup lost its opener).",
          parameters: [idParameter],
          responses: {
            '200': ok('{id, integration, tenantId, expiresAt, status, connectionId?, error?}'),
          },
        }),
      },
      '/sdk/connect.js': {
        get: {
          summary: 'The frontend connect snippet (an ES module)',
          responses: { '200': { description: 'text/javascript' } },
        },
      },
      '/v1/connect': {
        get: {
          summary: 'Browser: start the authorization flow (302 to the provider)',
          parameters: [
            { name: 'session', in: 'query', required: true, schema: { type: 'string' } },
          ],
          responses: {
            '302': { description: 'Redirect to the provider' },
            '404': errorResponse,
            '409': errorResponse,
            '410': errorResponse,
          },
        },
      },
      '/v1/oauth/callback/{integrationKey}': {
        get: {
          summary:
            'Provider redirect: end the flow (303 to returnTo with connection_id or error, or a result page)',
          parameters: [
            { name: 'integrationKey', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: {
            '303': { description: 'Redirect to the return URL' },
            '200': { description: 'Result page' },
            '400': errorResponse,
          },
        },
      },
      '/v1/providers': {
        get: service(undefined, {
          summary: 'The built-in provider catalogue',
          responses: { '200': ok('{data}') },
        }),
      },
      '/v1/integrations': {
        get: service(undefined, {
          summary: 'Configured integrations (no secrets)',
          responses: { '200': ok('{data}') },
        }),
      },
      '/v1/connections': {
        get: service('manage', {
          summary: 'List connections, newest first',
          parameters: queryParameters(listConnectionsQuerySchema),
          responses: { '200': ok('{data, nextCursor}') },
        }),
      },
      '/v1/connections/{id}': {
        get: service('manage', {
          summary: 'One connection (no secrets)',
          parameters: [idParameter],
          responses: { '200': ok('Connection') },
        }),
        delete: service('manage', {
          summary: 'Disconnect: delete the credentials, revoke at the provider',
          parameters: [idParameter],
          responses: { '204': { description: 'Disconnected' } },
        }),
      },
      '/v1/connections/{id}/token': {
        get: service('token', {
          summary: 'A currently valid access token (refreshed first when needed)',
          parameters: [idParameter, ...queryParameters(tokenQuerySchema)],
          responses: { '200': ok('{accessToken, tokenType, expiresAt, scopes, extras}') },
        }),
      },
      '/v1/connections/{id}/refresh': {
        post: service('token', {
          summary: 'Refresh now (with a cooldown)',
          parameters: [idParameter],
          responses: { '200': ok('Connection') },
        }),
      },
      '/v1/connections/{id}/syncs': {
        post: service('sync', {
          summary: 'Start sync runs (all synced models, or one)',
          parameters: [idParameter],
          requestBody: {
            required: false,
            content: { 'application/json': { schema: json(triggerSyncSchema) } },
          },
          responses: { '202': ok('{syncRunIds}') },
        }),
        get: service('sync', {
          summary: 'Sync runs, newest first',
          parameters: [idParameter, ...queryParameters(listSyncsQuerySchema)],
          responses: { '200': ok('{data}') },
        }),
      },
      '/v1/connections/{id}/records/{model}': {
        get: service('sync', {
          summary: 'Synced records in a stable order; deleted ones carry deletedAt',
          parameters: [
            idParameter,
            { name: 'model', in: 'path', required: true, schema: { type: 'string' } },
            ...queryParameters(recordsQuerySchema),
          ],
          responses: { '200': ok('{data, nextCursor}') },
        }),
      },
      '/health/live': { get: { summary: 'Liveness', responses: { '200': ok('{status}') } } },
      '/health/ready': {
        get: {
          summary: 'Readiness (PostgreSQL, Redis)',
          responses: { '200': ok('{status, checks}'), '503': ok('{status, checks}') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'text/plain exposition format' } },
        },
      },
      '/docs': {
        get: { summary: 'This document, rendered', responses: { '200': { description: 'HTML' } } },
      },
      '/docs/openapi.json': {
        get: { summary: 'This document', responses: { '200': ok('OpenAPI 3.1') } },
      },
      '/docs/assets/{file}': {
        get: {
          summary: 'Assets of the rendered document',
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'CSS or JavaScript' } },
        },
      },
    },
  };
}
