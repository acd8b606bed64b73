import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../infra/clock/clock.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { revocable } from '../revocation/revocation.service.js';
import { PendingGrantsRepository } from './pending-grants.repository.js';

export type { PendingGrant } from './pending-grants.repository.js';

type Args<K extends keyof PendingGrantsRepository> = Parameters<PendingGrantsRepository[K]>;

const BATCH = 500;

/**
 * Grants parked by the callback until the app's backend finalizes them
 * (requireFinalize): the module's façade. The tokens stay sealed in
 * pending_grants; a grant nobody finalizes in time is revoked.
 */
@Injectable()
export class ParkedGrants {
  private readonly logger = new Logger(ParkedGrants.name);

  constructor(
    private readonly grants: PendingGrantsRepository,
    private readonly integrations: IntegrationRegistry,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  readonly park = (...args: Args<'park'>) => this.grants.park(...args);
  readonly find = (...args: Args<'find'>) => this.grants.find(...args);
  /** Takes the grant out (single use); `restore` puts it back when storing it failed. */
  readonly take = (...args: Args<'take'>) => this.grants.take(...args);
  readonly restore = (...args: Args<'restore'>) => this.grants.restore(...args);
  /** Drops it, moving its tokens to the pending revocations in the same transaction. */
  readonly discard = (...args: Args<'discard'>) => this.grants.discard(...args);
  readonly keyIds = () => this.grants.keyIds();

  /** Each grant past its time moves to the pending revocations and its revocation is queued. */
  async expireUnfinalized(): Promise<number> {
    const expired = await this.grants.expiredIds(this.clock.now(), BATCH);
    for (const id of expired) {
      const discarded = await this.grants.discard(id, (key) => revocable(this.integrations, key));
      const revocationId = discarded?.revocationId;
      if (revocationId) {
        await this.queue.enqueue('revocation.deliver', { revocationId });
      }
    }
    if (expired.length) {
      this.logger.log({ revoked: expired.length, msg: 'unfinalized grants revoked' });
    }
    return expired.length;
  }
}
