import { livenessSchema, readinessSchema } from '../health/health.dto.js';
import { operation } from './openapi-builder.js';

/** The Operations tag: health, metrics, documentation, the queue dashboard, the frontend snippet. */
export function operationsPaths(): Record<string, unknown> {
  return {
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
        summary: 'Ready to serve tokens: PostgreSQL answers (Redis down is `degraded`, still 200)',
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
  };
}
