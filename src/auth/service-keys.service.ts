import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthenticationError } from '../common/errors/app-error.js';
import { Clock } from '../infra/clock/clock.js';
import { type Action, ACTIONS, type Caller } from './caller.js';
import {
  displayPrefix,
  generateServiceKey,
  hashServiceKey,
  isWellFormedServiceKey,
} from './service-key-format.js';
import { ServiceKeysRepository } from './service-keys.repository.js';

export interface CreateServiceKeyInput {
  name: string;
  tenants?: string[];
  integrations?: string[];
  actions?: Action[];
}

/**
 * How long a verified key is trusted without asking the database again. A
 * revoked key stops working within this window on every replica; in exchange
 * the token hot path does not pay a query per request for authentication.
 */
const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 1_000;

@Injectable()
export class ServiceKeysService {
  private readonly cache = new Map<string, { caller: Caller; until: number }>();

  constructor(
    private readonly repository: ServiceKeysRepository,
    private readonly clock: Clock,
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

  async authenticate(presented: string | undefined): Promise<Caller> {
    if (!presented)
      throw new AuthenticationError(
        'missing_service_key',
        'Send a service key as "Authorization: Bearer <key>"',
      );
    if (!isWellFormedServiceKey(presented)) throw invalidKey();
    return this.authenticateHash(hashServiceKey(presented));
  }

  /** The caller of a key known only by its hash (an operator's dashboard session keeps no key). */
  async authenticateHash(hash: string): Promise<Caller> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.caller;
    const caller = await this.repository.findActiveByHash(hash);
    if (!caller) {
      this.cache.delete(hash);
      throw invalidKey();
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { caller, until: now + CACHE_TTL_MS });
    return caller;
  }

  /** The hash a session may keep in place of the key itself. */
  hashOf(presented: string): string {
    return hashServiceKey(presented);
  }

  async revoke(id: string): Promise<boolean> {
    this.cache.clear();
    return this.repository.revoke(id);
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
