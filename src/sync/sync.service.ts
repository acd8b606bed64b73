import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { ConflictError, NotFoundError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection } from '../connections/connection.js';
import { assertCallerMayUse } from '../connections/connection-access.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { isUuid } from '../common/uuid.js';
import { Clock } from '../infra/clock/clock.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { adapterFor, syncedModels } from './adapters/adapter-for.js';
import {
  type RecordListOptions,
  RecordsRepository,
  type StoredRecord,
} from './records.repository.js';
import { mapFields } from './record-fields.js';
import type { SyncRun } from './sync-run.js';
import { SyncRunsRepository } from './sync-runs.repository.js';

/** A stored record with its fields in our shape (when the model maps them). */
export type MappedRecord = StoredRecord & { fields?: Record<string, unknown> };

/** The job id of a (connection, model) pair: a second trigger while one is queued or running adds nothing. */
export function syncJobId(connectionId: string, model: string): string {
  return `sync-${connectionId}-${model}`;
}

/** Starting sync runs and reading their results. Runs execute in the worker (SyncRunner). */
@Injectable()
export class SyncService {
  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionStore,
    private readonly integrations: IntegrationRegistry,
    private readonly runs: SyncRunsRepository,
    private readonly records: RecordsRepository,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  /** Queues a run per model (all synced models when none is named); returns the run ids. */
  async trigger(
    caller: Caller,
    connectionId: string,
    request: { model?: string; full?: boolean },
  ): Promise<string[]> {
    const connection = assertCallerMayUse(caller, await this.connections.findById(connectionId));
    if (connection.status !== 'active') {
      throw new ConflictError(
        connection.status === 'needs_reauth' ? 'needs_reauth' : 'connection_not_active',
        `The connection is ${connection.status}`,
      );
    }
    const integration = this.integrationOf(connection);
    const models = request.model ? [request.model] : syncedModels(integration);
    if (models.length === 0)
      throw new ConflictError(
        'sync_not_configured',
        `Integration "${integration.key}" describes no API models`,
      );
    const ids: string[] = [];
    for (const model of models) {
      if (!adapterFor(integration, model))
        throw new NotFoundError(
          'model_not_found',
          `Integration "${integration.key}" has no model "${model}"`,
        );
      ids.push((await this.start(connection, integration, model, 'manual', request.full)).id);
    }
    return ids;
  }

  /** A scheduler fired: start a run unless the connection cannot sync now. */
  async triggerScheduled(connectionId: string, model: string): Promise<SyncRun | undefined> {
    const connection = await this.connections.findById(connectionId);
    const integration = connection && this.integrations.get(connection.integrationKey);
    if (connection?.status !== 'active' || !integration || !adapterFor(integration, model))
      return undefined;
    return this.start(connection, integration, model, 'scheduled');
  }

  /** Re-queues a run whose job was lost (e.g. Redis restarted); a job that exists is left alone. */
  async requeue(run: SyncRun): Promise<void> {
    await this.queue.enqueue(
      'sync.run',
      { syncRunId: run.id },
      { jobId: syncJobId(run.connectionId, run.model) },
    );
  }

  /**
   * Stops a queued or running run: `cancelled` at once; a running execution
   * stops at its next commit (within one page), writing nothing more.
   */
  async cancel(caller: Caller, connectionId: string, runId: string): Promise<SyncRun> {
    const connection = assertCallerMayUse(caller, await this.connections.findById(connectionId));
    const result = isUuid(runId)
      ? await this.runs.cancel(connection.id, runId, this.clock.now())
      : undefined;
    if (!result)
      throw new NotFoundError('sync_run_not_found', 'No such sync run for this connection');
    if (!result.cancelled && result.run.status !== 'cancelled') {
      throw new ConflictError(
        'sync_run_finished',
        `The sync run already ended (${result.run.status})`,
      );
    }
    return result.run;
  }

  async listRuns(caller: Caller, connectionId: string, limit: number): Promise<SyncRun[]> {
    const connection = assertCallerMayUse(caller, await this.connections.findById(connectionId));
    return this.runs.listForConnection(connection.id, limit);
  }

  async listRecords(
    caller: Caller,
    connectionId: string,
    model: string,
    options: RecordListOptions,
  ): Promise<MappedRecord[]> {
    const connection = assertCallerMayUse(caller, await this.connections.findById(connectionId));
    const fields = this.integrations.get(connection.integrationKey)?.api?.models[model]?.fields;
    const records = await this.records.list(connection.id, model, options);
    return records.map((record) => ({ ...record, fields: mapFields(fields, record.data) }));
  }

  private async start(
    connection: Connection,
    integration: Integration,
    model: string,
    trigger: SyncRun['trigger'],
    full?: boolean,
  ): Promise<SyncRun> {
    const { run } = await this.runs.createOrFindActive(
      connection.id,
      model,
      trigger,
      full ?? (await this.needsFullRun(connection, integration, model)),
    );
    await this.requeue(run);
    return run;
  }

  /**
   * Incremental when the model supports it and a watermark exists; full
   * (which also finds deletions by absence) otherwise, and periodically.
   */
  private async needsFullRun(
    connection: Connection,
    integration: Integration,
    model: string,
  ): Promise<boolean> {
    if (!adapterFor(integration, model)?.incremental) return true;
    const state = await this.runs.state(connection.id, model);
    if (!state.watermark) return true;
    const hours = this.config.sync.fullResyncHours;
    if (hours === 0) return false;
    return (
      !state.lastFullSyncAt ||
      this.clock.now().getTime() - state.lastFullSyncAt.getTime() > hours * 3_600_000
    );
  }

  private integrationOf(connection: Connection): Integration {
    const integration = this.integrations.get(connection.integrationKey);
    if (!integration)
      throw new ConflictError(
        'integration_not_configured',
        `Integration "${connection.integrationKey}" is not configured here`,
      );
    return integration;
  }
}
