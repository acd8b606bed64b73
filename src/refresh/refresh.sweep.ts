import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore, type WalkCursor, type WalkRow } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { IntegrationHealth } from './integration-health.service.js';
import { expiryPriority, IDLE_PRIORITY } from './refresh-priority.js';

/** Rows per query and per addBulk. */
export const PAGE = 1_000;

/**
 * How long a grant may stay unrefreshed: the configured idle period, but at
 * most half the provider's refresh-token idle lifetime (Pipedrive: 60 days),
 * so a quiet connection's refresh token never dies of disuse.
 */
export function idleSecondsFor(integration: Integration, configured: number): number {
  const lifetime = integration.refreshTokenIdleSeconds;
  return lifetime ? Math.min(configured, Math.floor(lifetime / 2)) : configured;
}

/** What one tick did (logged, and read by the scale bench). */
export interface SweepTick {
  /** Due rows read from PostgreSQL. */
  selected: number;
  /** Connections handed to the queue (those already queued stay as they are). */
  queued: number;
  pages: number;
  /** True when the tick stopped at REFRESH_SWEEP_MAX_PER_TICK with rows left. */
  capped: boolean;
}

/** One keyset walk over due connections, a page at a time, and the queue priority of its rows. */
interface Walk {
  done: boolean;
  next(limit: number): Promise<WalkRow[]>;
  priority(row: WalkRow): number;
}

function walk(
  fetch: (after: WalkCursor | undefined, limit: number) => Promise<WalkRow[]>,
  priority: (row: WalkRow) => number,
): Walk {
  let after: WalkCursor | undefined;
  const state: Walk = {
    done: false,
    priority,
    async next(limit) {
      const rows = await fetch(after, limit);
      const last = rows.at(-1);
      if (last) after = { at: last.at, id: last.id };
      if (rows.length < limit) state.done = true;
      return rows;
    },
  };
  return state;
}

/**
 * Finds connections due for a proactive refresh and enqueues one job each
 * (`refresh-<connectionId>`: a connection already queued is not queued
 * twice). Only enqueues; the refresh queue's workers do the refreshing,
 * at most REFRESH_INTEGRATION_CONCURRENCY per integration at once.
 *
 * Due means one of two walks, each a keyset walk on its own index, oldest
 * due first: close to expiry (ordered by expires_at, expired ones first), or
 * idle too long (ordered by last_refreshed_at, never-refreshed first). A
 * tick takes pages from the walks in turn until both are exhausted or
 * REFRESH_SWEEP_MAX_PER_TICK is reached, so a backlog of expiring tokens
 * can never take every turn from idle grants (each walk gets at least its
 * share of the budget), and within a walk the longest-waiting go first.
 * With 30-minute tokens, 100,000 connections make about 5,000 due a
 * minute; the default budget of 50,000 also absorbs a backlog after an
 * outage in one tick.
 */
@Injectable()
export class RefreshSweep {
  private readonly logger = new Logger(RefreshSweep.name);

  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionStore,
    private readonly integrations: IntegrationRegistry,
    private readonly queue: JobQueue,
    private readonly health: IntegrationHealth,
    private readonly clock: Clock,
  ) {}

  /** One tick; the number of connections queued. */
  async sweep(): Promise<number> {
    return (await this.tick()).queued;
  }

  async tick(): Promise<SweepTick> {
    const now = this.clock.now();
    const { refreshMarginSeconds, idleRefreshSeconds } = this.config.tokens;
    const budget = this.config.refreshSweep.maxPerTick;
    // Connections of integrations not configured here are left alone, not
    // failed; an integration whose client the provider rejects waits out its hold.
    const keys: string[] = [];
    const byIdle = new Map<number, string[]>();
    for (const integration of this.integrations.list()) {
      if (await this.health.isHeld(integration)) continue;
      keys.push(integration.key);
      const idle = idleSecondsFor(integration, idleRefreshSeconds);
      byIdle.set(idle, [...(byIdle.get(idle) ?? []), integration.key]);
    }
    const walks: Walk[] = [
      // Rows of the expiry walk carry their expiry (`at`): soonest first in the queue too.
      walk(
        (after, limit) =>
          this.connections.dueByExpiry(keys, now, refreshMarginSeconds, after, limit),
        (row) => (row.at ? expiryPriority(row.at, now) : 1),
      ),
      ...[...byIdle].map(([idle, idleKeys]) => {
        const cutoff = new Date(now.getTime() - idle * 1000);
        return walk(
          (after, limit) => this.connections.dueByIdle(idleKeys, now, cutoff, after, limit),
          () => IDLE_PRIORITY,
        );
      }),
    ];

    // Queued in this tick: a connection due both ways is sent once.
    const queued = new Set<string>();
    const tick: SweepTick = { selected: 0, queued: 0, pages: 0, capped: false };
    while (walks.some((w) => !w.done)) {
      // Each round splits what is left of the budget between the walks still going.
      const share = Math.max(
        1,
        Math.floor((budget - queued.size) / walks.filter((w) => !w.done).length),
      );
      for (const w of walks) {
        if (w.done) continue;
        if (queued.size >= budget) {
          tick.capped = true;
          break;
        }
        const rows = await w.next(Math.min(PAGE, share, budget - queued.size));
        tick.pages += 1;
        tick.selected += rows.length;
        const fresh = rows.filter((row) => !queued.has(row.id));
        for (const row of fresh) queued.add(row.id);
        await this.queue.enqueueBulk(
          'refresh.connection',
          fresh.map((row) => ({ payload: { connectionId: row.id }, priority: w.priority(row) })),
        );
      }
      if (tick.capped) break;
    }
    tick.queued = queued.size;
    if (tick.queued) this.logger.log({ ...tick, msg: 'proactive refreshes queued' });
    return tick;
  }
}
