import type { Redis } from 'ioredis';
import { publishOnChannel } from '../infra/redis/redis-channel.js';

/** The channel revocations are broadcast on, under the deployment's Redis prefix. */
export function keyRevocationsChannel(prefix: string): string {
  return `${prefix}service-keys:revoked`;
}

/** Tells every replica that a key was revoked, so it stops working within a second. */
export abstract class KeyRevocationsPublisher {
  /** True when Redis took the message; false: replicas learn it from their cache TTL. */
  abstract publish(keyId: string): Promise<boolean>;
}

/** Best effort: the revocation is already in PostgreSQL, the broadcast only speeds it up. */
export function publishKeyRevocation(
  client: Redis,
  prefix: string,
  keyId: string,
): Promise<boolean> {
  return publishOnChannel(client, keyRevocationsChannel(prefix), keyId);
}
