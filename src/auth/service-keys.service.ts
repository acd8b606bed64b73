import { randomUUID } from 'node:crypto';
import { Injectable, Optional } from '@nestjs/common';
import { AuthenticationError, RateLimitedError } from '../common/errors/app-error.js';
import { Clock } from '../infra/clock/clock.js';
import { type Action, ACTIONS, type Caller } from './caller.js';
import { FailedAttemptsLimiter } from './failed-attempts.limiter.js';
import { KeyRevocationsPublisher } from './key-revocations.js';
import {
  displayPrefix,
  generateServiceKey,
  hashServiceKey,
  presentedKeyDigest,
} from './service-key-format.js';
import { ServiceKeyCache } from './service-key-cache.js';
import { ServiceKeysRepository } from './service-keys.repository.js';

export interface CreateServiceKeyInput {
  name: string;
  tenants?: string[];
  integrations?: string[];
  actions?: Action[];
}

/**
 * Authentication of service keys, and their lifecycle. Keys are checked
 * against a per-replica cache (ServiceKeyCache) so the token hot path does
 * not pay a query per request; a revocation evicts the key here at once and
 * is broadcast so every other replica evicts it within a second (the cache
 * TTL is the fallback when the broadcast is missed). Invalid keys are
 * counted per client address (FailedAttemptsLimiter): a malformed key is
 * refused before any lookup, an unknown one is remembered briefly, and an
 * address past its budget is answered 429 without a query. Keys this replica
 * has already verified keep working from such an address, so callers behind
 * a shared NAT or proxy are not locked out by someone else's bad key.
 */
@Injectable()
export class ServiceKeysService {
  private readonly cache = new ServiceKeyCache();
  private readonly failures = new FailedAttemptsLimiter();

  constructor(
    private readonly repository: ServiceKeysRepository,
    private readonly clock: Clock,
    // Absent in tools that only create keys (the benchmark's set-up).
    @Optional() private readonly revocations?: KeyRevocationsPublisher,
  ) {}

  /** Creates a key; the plaintext is returned once and never stored. */
  async create(input: CreateServiceKeyInput): Promise<{ id: string; key: string }> {
    const key = generateServiceKey();
    const id = randomUUID();
    await this.repository.create({
      id,
      name: input.name,
      keyHash: hashServiceKey(key),
      keyPrefix: displayPrefix(key),
      tenants: unique(input.tenants),
      integrations: unique(input.integrations),
      actions: input.actions?.length ? unique(input.actions) : [...ACTIONS],
    });
    return { id, key };
  }

  /**
   * The caller of a presented key. `clientAddress` (the peer's address)
   * counts failures against it; without it (an operator's own session) none
   * are counted.
   */
  async authenticate(presented: string | undefined, clientAddress?: string): Promise<Caller> {
    if (!presented)
      throw new AuthenticationError(
        'missing_service_key',
        'Send a service key as "Authorization: Bearer <key>"',
      );
    return this.authenticateDigest(presentedKeyDigest(presented), clientAddress);
  }

  /**
   * The same for a key already digested (`presentedKeyDigest`; undefined
   * for one that is not shaped like a key), as the guard memoises it per
   * connection (PresentedKeys).
   */
  async authenticateDigest(digest: string | undefined, clientAddress?: string): Promise<Caller> {
    const now = this.clock.now().getTime();
    const cached = digest === undefined ? undefined : this.cache.lookup(digest, now);
    if (cached !== undefined && cached !== 'unknown') return cached;
    if (clientAddress !== undefined) {
      const wait = this.failures.retryAfterSeconds(clientAddress, now);
      if (wait !== undefined) {
        throw new RateLimitedError(
          'too_many_failed_attempts',
          'Too many invalid service keys from this address; retry later',
          wait,
        );
      }
    }
    try {
      if (digest === undefined || cached === 'unknown') throw invalidKey();
      return await this.lookup(digest, now);
    } catch (error) {
      if (error instanceof AuthenticationError && clientAddress !== undefined)
        this.failures.recordFailure(clientAddress, now);
      throw error;
    }
  }

  /** The caller of a key known only by its hash (an operator's dashboard session keeps no key). */
  async authenticateHash(hash: string): Promise<Caller> {
    const now = this.clock.now().getTime();
    const cached = this.cache.lookup(hash, now);
    if (cached === 'unknown') throw invalidKey();
    return cached ?? this.lookup(hash, now);
  }

  private async lookup(hash: string, now: number): Promise<Caller> {
    const caller = await this.repository.findActiveByHash(hash);
    if (!caller) {
      this.cache.rememberUnknown(hash, now);
      throw invalidKey();
    }
    this.cache.rememberKnown(hash, caller, now);
    return caller;
  }

  /** The hash a session may keep in place of the key itself. */
  hashOf(presented: string): string {
    return hashServiceKey(presented);
  }

  /**
   * Revokes in PostgreSQL (the truth), evicts here, and broadcasts. The
   * broadcast goes out even when the key was already revoked: repeating a
   * revoke is how an operator retries one whose broadcast failed.
   */
  async revoke(id: string): Promise<{ revoked: boolean; broadcast: boolean }> {
    const revoked = await this.repository.revoke(id);
    this.cache.forgetKey(id);
    const broadcast = (await this.revocations?.publish(id)) ?? false;
    return { revoked, broadcast };
  }

  /** A revocation broadcast by another replica (or the command line). */
  forget(keyId: string): void {
    this.cache.forgetKey(keyId);
  }

  /** Broadcasts may have been missed (the channel reconnected): verify every key again. */
  forgetAll(): void {
    this.cache.forgetAllKnown();
  }

  list() {
    return this.repository.list();
  }
}

function invalidKey(): AuthenticationError {
  return new AuthenticationError('invalid_service_key', 'The service key is not valid');
}

function unique<T>(values: T[] | undefined): T[] {
  return [...new Set(values ?? [])];
}
