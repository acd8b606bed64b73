import { Injectable } from '@nestjs/common';
import { JobQueue } from '../infra/queue/job-queue.js';
import { RevocationsRepository } from './revocations.repository.js';

/** Re-queues revocations still pending in PostgreSQL (e.g. queued while Redis was down). */
@Injectable()
export class RevocationSweep {
  constructor(
    private readonly revocations: RevocationsRepository,
    private readonly queue: JobQueue,
  ) {}

  async sweep(): Promise<number> {
    const ids = await this.revocations.pendingIds(1_000);
    for (const revocationId of ids) {
      await this.queue.enqueue(
        'revocation.deliver',
        { revocationId },
        { jobId: `revoke-${revocationId}` },
      );
    }
    return ids.length;
  }
}
