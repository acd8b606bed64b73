import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { IntegrationHealth } from './integration-health.service.js';

const BATCH = 1_000;

/**
 * How long a grant may stay unrefreshed: the configured idle period, but at
 * most half the provider's refresh-token idle lifetime (Pipedrive: 60 days),
 * so a quiet connection's refresh token never dies of disuse.
 */
export function idleSecondsFor(integration: Integration, configured: number): number {
  const lifetime = integration.refreshTokenIdleSeconds;
  return lifetime ? Math.min(configured, Math.floor(lifetime / 2)) : configured;
}

/**
 * Finds connections due for a proactive refresh (close to expiry, or idle
 * for a day) and enqueues one job each. Only enqueues: the job id is the
 * connection's, so a connection already queued is not queued twice.
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

  async sweep(): Promise<number> {
    const now = this.clock.now();
    const { refreshMarginSeconds, idleRefreshSeconds } = this.config.tokens;
    // Connections of integrations not configured here are left alone, not
    // failed; an integration whose client the provider rejects waits out its hold.
    const byIdle = new Map<number, string[]>();
    for (const integration of this.integrations.list()) {
      if (await this.health.isHeld(integration)) continue;
      const idle = idleSecondsFor(integration, idleRefreshSeconds);
      byIdle.set(idle, [...(byIdle.get(idle) ?? []), integration.key]);
    }
    const due: string[] = [];
    for (const [idle, keys] of byIdle) {
      due.push(
        ...(await this.connections.dueForRefresh(keys, now, refreshMarginSeconds, idle, BATCH)),
      );
    }
    for (const connectionId of due) {
      await this.queue.enqueue('refresh.connection', { connectionId });
    }
    if (due.length) this.logger.log({ queued: due.length, msg: 'proactive refreshes queued' });
    return due.length;
  }
}
