import type { Redis } from 'ioredis';

/** The channel revocations are broadcast on, under the deployment's Redis prefix. */
export function keyRevocationsChannel(prefix: string): string {
  return `${prefix}service-keys:revoked`;
}

/** Tells every replica that a key was revoked, so it stops working within a second. */
export abstract class KeyRevocationsPublisher {
  /** True when Redis took the message; false: replicas learn it from their cache TTL. */
  abstract publish(keyId: string): Promise<boolean>;
}

const PUBLISH_TIMEOUT_MS = 2_000;

/** Best effort: the revocation is already in PostgreSQL, the broadcast only speeds it up. */
export async function publishKeyRevocation(
  client: Redis,
  prefix: string,
  keyId: string,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PUBLISH_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      client.publish(keyRevocationsChannel(prefix), keyId).then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
