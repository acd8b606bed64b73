import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../infra/clock/clock.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import { PendingGrantsRepository } from './pending-grants.repository.js';

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
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  async sweep(): Promise<number> {
    const expired = await this.grants.expiredIds(this.clock.now(), BATCH);
    for (const id of expired) {
      const revocationId = await this.grants.discard(id);
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
