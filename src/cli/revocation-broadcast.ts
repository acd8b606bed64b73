import { Redis } from 'ioredis';
import { KeyRevocationsPublisher, publishKeyRevocation } from '../auth/key-revocations.js';
import type { Secret } from '../common/secret.js';

/**
 * The command line's way to tell running replicas of a revocation: one
 * short-lived Redis connection, made only when a key is revoked, that gives
 * up quickly (the revocation itself is already in PostgreSQL).
 */
export class RevocationBroadcast extends KeyRevocationsPublisher {
  constructor(
    private readonly url: Secret,
    private readonly prefix: string,
  ) {
    super();
  }

  async publish(keyId: string): Promise<boolean> {
    const client = new Redis(this.url.reveal(), {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      return await publishKeyRevocation(client, this.prefix, keyId);
    } finally {
      client.disconnect();
    }
  }
}
