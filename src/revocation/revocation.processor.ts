import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ProviderError } from '../common/errors/app-error.js';
import { JobWorkers, RetryLater } from '../infra/queue/job-workers.js';
import { RevocationService } from './revocation.service.js';

/** `revocation.deliver` jobs; transient failures are retried by the queue with backoff. */
@Injectable()
export class RevocationProcessor implements OnModuleInit {
  constructor(
    private readonly workers: JobWorkers,
    private readonly revocations: RevocationService,
  ) {}

  onModuleInit(): void {
    this.workers.register('revocation.deliver', async ({ revocationId, ...origin }) => {
      try {
        return await this.revocations.deliver(revocationId, origin);
      } catch (error) {
        if (error instanceof ProviderError && error.detail.retryAfterSeconds !== undefined) {
          throw new RetryLater(error.detail.retryAfterSeconds * 1000);
        }
        throw error;
      }
    });
  }
}
