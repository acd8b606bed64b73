import { Injectable } from '@nestjs/common';
import { RevocationService } from './revocation.service.js';

/** Re-queues revocations still pending in PostgreSQL (e.g. queued while Redis was down). */
@Injectable()
export class RevocationSweep {
  constructor(private readonly revocations: RevocationService) {}

  sweep(): Promise<number> {
    return this.revocations.requeuePending();
  }
}
