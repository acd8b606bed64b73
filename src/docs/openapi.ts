import {
  connectSessionCreatedSchema,
  connectSessionStatusSchema,
  finalizeResultSchema,
} from '../connect/connect.dto.js';
import { errorEnvelopeSchema } from '../common/errors/error-envelope.schema.js';
import { livenessSchema, readinessSchema } from '../health/health.dto.js';
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
import { componentSchemas } from './openapi-builder.js';
import { proxyOperations } from './openapi-proxy.js';
import { connectPaths } from './openapi-connect.js';
import { connectionPaths } from './openapi-connections.js';
import { operationsPaths } from './openapi-operations.js';
import { syncPaths } from './openapi-sync.js';

/**
 * The OpenAPI description of the HTTP contract. Request and response bodies
 * come from the zod schemas that validate requests and type the views, so
 * they cannot drift; a test checks every route is here with its access rule.
 */
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
      ...connectPaths(),
      ...connectionPaths(),
      ...syncPaths(),
      '/v1/proxy/{connectionId}/{path}': proxyOperations(),
      ...operationsPaths(),
    },
  };
}
