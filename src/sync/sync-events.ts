import type { SyncRun } from './sync-run.js';

/** A sync event for the outbox (SPEC "Events"), written in the transaction that ends the run. */
export function syncEvent(
  type: 'sync.succeeded' | 'sync.failed',
  run: Pick<SyncRun, 'id' | 'connectionId' | 'model'>,
  tenantId: string | undefined,
  detail: Record<string, string | number>,
) {
  return {
    type,
    connectionId: run.connectionId,
    tenantId,
    payload: {
      connectionId: run.connectionId,
      tenantId: tenantId ?? null,
      syncRunId: run.id,
      model: run.model,
      ...detail,
    },
  };
}
