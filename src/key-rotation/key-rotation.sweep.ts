import { Injectable } from '@nestjs/common';
import { JobQueue } from '../infra/queue/job-queue.js';
import { KeyRotationService } from './key-rotation.service.js';

/** Queues the re-encryption job when anything is stored under a key other than the active one. */
@Injectable()
export class KeyRotationSweep {
  constructor(
    private readonly rotation: KeyRotationService,
    private readonly queue: JobQueue,
  ) {}

  async sweep(): Promise<boolean> {
    if (!(await this.rotation.pending())) return false;
    // One job for the whole deployment: replicas sweeping at once queue it once.
    await this.queue.enqueue('credentials.reencrypt', {});
    return true;
  }
}
