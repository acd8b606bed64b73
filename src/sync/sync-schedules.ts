import { Injectable, Logger } from '@nestjs/common';
import { ConnectionStore } from '../connections/connection-store.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { syncedModels } from './adapters/adapter-for.js';
import { durationMs } from './duration.js';

const PREFIX = 'sync-schedule-';
const ID = /^sync-schedule-([0-9a-f-]{36})-(.+)$/;

/**
 * Keeps one BullMQ job scheduler per active connection and synced model, at
 * the integration's `sync.every`. A connection that stops being active
 * (needs_reauth, revoked) loses its schedulers at the next pass, and gets
 * them back once reconnected. Schedulers only enqueue.
 */
@Injectable()
export class SyncSchedules {
  private readonly logger = new Logger(SyncSchedules.name);

  constructor(
    private readonly connections: ConnectionStore,
    private readonly integrations: IntegrationRegistry,
    private readonly queue: JobQueue,
  ) {}

  async reconcile(): Promise<{ added: number; removed: number }> {
    const wanted = new Map<string, { connectionId: string; model: string; everyMs: number }>();
    for (const integration of this.integrations.list()) {
      if (!integration.sync?.every) continue;
      const everyMs = durationMs(integration.sync.every);
      for (const connectionId of await this.connections.activeIds(integration.key)) {
        for (const model of syncedModels(integration)) {
          wanted.set(`${PREFIX}${connectionId}-${model}`, { connectionId, model, everyMs });
        }
      }
    }
    let added = 0;
    for (const [id, { connectionId, model, everyMs }] of wanted) {
      if (await this.queue.ensureScheduler(id, everyMs, 'sync.schedule', { connectionId, model }))
        added += 1;
    }
    let removed = 0;
    for (const id of await this.queue.schedulerIds('sync')) {
      if (ID.test(id) && !wanted.has(id)) {
        await this.queue.removeScheduler('sync', id);
        removed += 1;
      }
    }
    if (added || removed) this.logger.log({ added, removed, msg: 'sync schedules reconciled' });
    return { added, removed };
  }
}
