import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { RedisService } from '../infra/redis/redis.service.js';
import type { Connection, Tokens, TokenSet } from './connection.js';
import { CredentialSealer } from '../crypto/credential-sealer.js';

const TTL_SECONDS = 7 * 24 * 3600;

interface Pending {
  version: number;
  keyId: string;
  ciphertext: string;
}

/**
 * Tokens a provider issued that could not be written to PostgreSQL. With
 * refresh-token rotation the old refresh token is already spent, so losing
 * these would lose the grant; the next refresh attempt (on any replica)
 * stores them instead of calling the provider again. Kept sealed, in this
 * process and in Redis, until PostgreSQL has them.
 */
@Injectable()
export class PendingCredentialsStore {
  private readonly logger = new Logger(PendingCredentialsStore.name);
  private readonly local = new Map<string, Pending>();

  constructor(
    private readonly redis: RedisService,
    private readonly sealer: CredentialSealer,
  ) {}

  async save(connection: Connection, version: number, tokens: Tokens): Promise<void> {
    const sealed = this.sealer.seal(tokens, connection);
    const pending: Pending = {
      version,
      keyId: sealed.keyId,
      ciphertext: Buffer.from(sealed.ciphertext).toString('base64'),
    };
    this.local.set(connection.id, pending);
    try {
      await this.redis.client.set(
        this.key(connection.id),
        JSON.stringify(pending),
        'EX',
        TTL_SECONDS,
      );
    } catch (error) {
      this.logger.error({
        err: error,
        connectionId: connection.id,
        msg: 'pending credentials kept in this process only',
      });
    }
  }

  /** Tokens issued on top of `version` that still wait to be stored, if any. */
  async find(connection: Connection, version: number): Promise<TokenSet | undefined> {
    let pending = this.local.get(connection.id);
    if (!pending) {
      const raw = await this.redis.client.get(this.key(connection.id)).catch(() => null);
      pending = raw ? (JSON.parse(raw) as Pending) : undefined;
    }
    if (!pending || pending.version !== version) return undefined;
    try {
      return this.sealer.open(
        { keyId: pending.keyId, ciphertext: Buffer.from(pending.ciphertext, 'base64') },
        connection,
      );
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'credentials_unreadable')) throw error;
      // Its key was removed from the ring: the tokens are lost either way, and
      // keeping the entry would fail every refresh of this connection until it
      // expires. Without it, the refresh uses the stored refresh token (if the
      // provider rotated that one, the connection ends as needs_reauth).
      this.logger.error({
        connectionId: connection.id,
        keyId: pending.keyId,
        msg: 'pending credentials unreadable (key removed?); dropped',
      });
      await this.clear(connection.id);
      return undefined;
    }
  }

  async clear(connectionId: string): Promise<void> {
    this.local.delete(connectionId);
    await this.redis.client.del(this.key(connectionId)).catch(() => undefined);
  }

  private key(connectionId: string): string {
    return this.redis.key('pending-credentials', connectionId);
  }
}
