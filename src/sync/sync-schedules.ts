import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore, type WalkCursor } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import { RedisService } from '../infra/redis/redis.service.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { syncedModels } from './adapters/adapter-for.js';
import { durationMs } from './duration.js';

const PREFIX = 'sync-schedule-';
const ID = /^sync-schedule-([0-9a-f-]{36})-(.+)$/;
const PAGE = 500;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
/**
 * Changes are read again from this long before the watermark: updated_at is
 * stamped by each replica's clock when its statement runs, so a row may
 * commit with a stamp slightly older than one already seen.
 */
const OVERLAP_MS = 60_000;

interface Wanted {
  everyMs: number;
  models: string[];
}

export interface Reconciled {
  added: number;
  removed: number;
  /** Connections looked at: every active one in a full pass, the changed ones otherwise. */
  visited: number;
  full: boolean;
}

/**
 * Keeps one BullMQ job scheduler per active connection and synced model, at
 * the integration's `sync.every`. A connection that stops being active
 * (needs_reauth, revoked) loses its schedulers, and gets them back once
 * reconnected. Schedulers only enqueue.
 *
 * A pass costs what changed, not what exists: it reads the connections
 * changed since its watermark (a keyset walk on (updated_at, id)) and
 * fixes only their schedulers. Every SYNC_SCHEDULES_FULL_MINUTES, when the
 * integrations' sync settings change, or when Redis lost the watermark (and
 * with it, possibly, the schedulers), a full pass walks every active
 * connection and every scheduler, in pages. The sweep lease runs it on one
 * worker at a time.
 */
@Injectable()
export class SyncSchedules {
  private readonly logger = new Logger(SyncSchedules.name);

  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionStore,
    private readonly integrations: IntegrationRegistry,
    private readonly queue: JobQueue,
    private readonly redis: RedisService,
    private readonly clock: Clock,
  ) {}

  async reconcile(): Promise<Reconciled> {
    const wanted = this.wanted();
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([...wanted].sort(([a], [b]) => a.localeCompare(b))))
      .digest('hex');
    const stateKey = this.redis.key('sync-schedules', 'state');
    const state = await this.redis.client.hgetall(stateKey);
    const now = this.clock.now().getTime();
    const full =
      state.fingerprint !== fingerprint ||
      !state.fullAt ||
      !state.watermark ||
      now - Number(state.fullAt) >= this.config.syncSchedulesFullMinutes * 60_000;

    // A full pass sets the watermark to the newest change it could have missed.
    const result: Reconciled = { added: 0, removed: 0, visited: 0, full };
    const watermark = full
      ? await this.fullPass(wanted, result)
      : await this.changedPass(wanted, new Date(Number(state.watermark)), result);
    await this.redis.client.hset(stateKey, {
      fingerprint,
      watermark: String(watermark.getTime()),
      ...(full && { fullAt: String(now) }),
    });
    if (result.added || result.removed)
      this.logger.log({ ...result, msg: 'sync schedules reconciled' });
    return result;
  }

  /** Integration key → its schedule, for integrations that sync on a schedule. */
  private wanted(): Map<string, Wanted> {
    const wanted = new Map<string, Wanted>();
    for (const integration of this.integrations.list()) {
      if (!integration.sync?.every) continue;
      wanted.set(integration.key, {
        everyMs: durationMs(integration.sync.every),
        models: syncedModels(integration),
      });
    }
    return wanted;
  }

  /**
   * Connections changed since the watermark (and a little before it):
   * schedulers for the active ones, none for the others. Returns the new
   * watermark.
   */
  private async changedPass(
    wanted: Map<string, Wanted>,
    watermark: Date,
    result: Reconciled,
  ): Promise<Date> {
    let after: WalkCursor = { at: new Date(watermark.getTime() - OVERLAP_MS), id: NIL_UUID };
    let newest = watermark;
    for (;;) {
      // Only integrations that sync on a schedule: a change to the others'
      // settings changes the fingerprint, and a full pass follows.
      const page = await this.connections.changedSince([...wanted.keys()], after, PAGE);
      await Promise.all(
        page.map(async (connection) => {
          const schedule = wanted.get(connection.integrationKey)!;
          if (connection.status === 'active') await this.ensure(connection.id, schedule, result);
          else await this.remove(connection.id, schedule.models, result);
        }),
      );
      result.visited += page.length;
      const last = page.at(-1);
      if (last) {
        after = { at: last.updatedAt, id: last.id };
        if (last.updatedAt > newest) newest = last.updatedAt;
      }
      if (page.length < PAGE) return newest;
    }
  }

  /** Every active connection of a scheduled integration, then every scheduler, page by page. */
  private async fullPass(wanted: Map<string, Wanted>, result: Reconciled): Promise<Date> {
    // Changes from here on are the next pass's. Wall time, not the Clock:
    // updated_at is stamped by Prisma with the wall clock.
    const startedAt = new Date();
    for (const [integrationKey, schedule] of wanted) {
      let afterId: string | undefined;
      for (;;) {
        const ids = await this.connections.activeIdsPage(integrationKey, afterId, PAGE);
        await Promise.all(ids.map((id) => this.ensure(id, schedule, result)));
        result.visited += ids.length;
        afterId = ids.at(-1);
        if (ids.length < PAGE) break;
      }
    }
    // Collected first, removed after: removing while paging would shift the pages.
    const stale: string[] = [];
    for (let start = 0; ; start += PAGE) {
      const ids = await this.queue.schedulerIds('sync', start, start + PAGE - 1);
      const ours = ids.flatMap((id) => {
        const match = ID.exec(id);
        return match ? [{ id, connectionId: match[1]!, model: match[2]! }] : [];
      });
      const active = await this.connections.activeAmong(ours.map((s) => s.connectionId));
      for (const scheduler of ours) {
        const integrationKey = active.get(scheduler.connectionId);
        const schedule = integrationKey ? wanted.get(integrationKey) : undefined;
        if (!schedule?.models.includes(scheduler.model)) stale.push(scheduler.id);
      }
      if (ids.length < PAGE) break;
    }
    for (const id of stale) {
      if (await this.queue.removeScheduler('sync', id)) result.removed += 1;
    }
    return startedAt;
  }

  private async ensure(connectionId: string, schedule: Wanted, result: Reconciled): Promise<void> {
    for (const model of schedule.models) {
      const id = `${PREFIX}${connectionId}-${model}`;
      const payload = { connectionId, model };
      if (await this.queue.ensureScheduler(id, schedule.everyMs, 'sync.schedule', payload))
        result.added += 1;
    }
  }

  private async remove(connectionId: string, models: string[], result: Reconciled): Promise<void> {
    for (const model of models) {
      if (await this.queue.removeScheduler('sync', `${PREFIX}${connectionId}-${model}`))
        result.removed += 1;
    }
  }
}
