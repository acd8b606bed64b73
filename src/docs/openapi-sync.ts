import {
  recordPageSchema,
  syncRunListSchema,
  syncRunSchema,
  syncsTriggeredSchema,
} from '../internal-api/responses.schema.js';
import {
  listSyncsQuerySchema,
  recordsQuerySchema,
  triggerSyncSchema,
} from '../internal-api/syncs.dto.js';
import { connectionIdParam, operation } from './openapi-builder.js';
import { examples } from './openapi-examples.js';

/** The Sync tag: sync runs and the records they keep. */
export function syncPaths(): Record<string, unknown> {
  return {
    '/v1/connections/{id}/syncs': {
      post: operation({
        operationId: 'startSync',
        tag: 'Sync',
        summary: 'Start sync runs (every synced model, or one)',
        access: 'sync',
        pathParams: [connectionIdParam],
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
        pathParams: [connectionIdParam],
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
        pathParams: [
          connectionIdParam,
          { name: 'runId', description: 'The sync run id', uuid: true },
        ],
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
        pathParams: [connectionIdParam, { name: 'model', description: 'A model, e.g. contacts' }],
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
  };
}
