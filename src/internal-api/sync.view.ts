import type { MappedRecord } from '../sync/sync.service.js';
import type { SyncRun } from '../sync/sync-run.js';
import type { SyncedRecordDto, SyncRunDto } from './responses.schema.js';

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

export function syncRunView(run: SyncRun): SyncRunDto {
  return {
    id: run.id,
    model: run.model,
    status: run.status,
    trigger: run.trigger,
    full: run.full,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    recordsFetched: run.recordsFetched,
    recordsUpserted: run.recordsUpserted,
    recordsDeleted: run.recordsDeleted,
    pages: run.pages,
    executions: run.executions,
    attemptsMade: run.attemptsMade,
    error: run.errorCode ? { code: run.errorCode, message: run.errorMessage ?? null } : null,
  };
}

/** `fields`: the record in our shape, where the model maps one; `data`: the provider's item as it came. */
export function recordView(record: MappedRecord): SyncedRecordDto {
  return {
    id: record.externalId,
    fields: record.fields ?? null,
    data: record.data,
    providerUpdatedAt: iso(record.providerUpdatedAt),
    modifiedAt: record.modifiedAt.toISOString(),
    deletedAt: iso(record.deletedAt),
  };
}
