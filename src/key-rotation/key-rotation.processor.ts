import { Injectable, type OnModuleInit } from '@nestjs/common';
import { JobWorkers, RetryLater } from '../infra/queue/job-workers.js';
import { KeyRotationService } from './key-rotation.service.js';

/** `credentials.reencrypt`: one at a time; a stopping worker hands the rest back. */
@Injectable()
export class KeyRotationProcessor implements OnModuleInit {
  constructor(
    private readonly workers: JobWorkers,
    private readonly rotation: KeyRotationService,
  ) {}

  onModuleInit(): void {
    this.workers.register('credentials.reencrypt', async (_payload, _job, shutdown) => {
      const result = await this.rotation.rotateAll(shutdown);
      if (!result.complete) throw new RetryLater(0);
      return result;
    });
  }
}
