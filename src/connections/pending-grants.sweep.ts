import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../infra/clock/clock.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { PendingGrantsRepository } from './pending-grants.repository.js';
import { revocable } from './revocation.service.js';

const BATCH = 500;

/**
 * Grants nobody finalized in time are not kept: each moves to the pending
 * revocations (in one transaction) and its revocation is queued.
 */
@Injectable()
export class PendingGrantsSweep {
  private readonly logger = new Logger(PendingGrantsSweep.name);

  constructor(
    private readonly grants: PendingGrantsRepository,
    private readonly integrations: IntegrationRegistry,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  async sweep(): Promise<number> {
    const expired = await this.grants.expiredIds(this.clock.now(), BATCH);
    for (const id of expired) {
      const discarded = await this.grants.discard(id, (key) => revocable(this.integrations, key));
      const revocationId = discarded?.revocationId;
      if (revocationId) {
        await this.queue.enqueue(
          'revocation.deliver',
          { revocationId },
          { jobId: `revoke-${revocationId}` },
        );
      }
    }
    if (expired.length) {
      this.logger.log({ revoked: expired.length, msg: 'unfinalized grants revoked' });
    }
    return expired.length;
  }
}
