import { Injectable, Optional } from '@nestjs/common';
import { isUuid } from '../common/uuid.js';
import { type Connection as ConnectionRow, Prisma } from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { Connection, ConnectionStatus, ConnectionWithTokens } from './connection.js';
import { connectionEvent } from './connection-events.js';
import { toConnection } from './connection.mapper.js';
import { ConnectionCache } from './connection-cache.js';
import type { SealedConnection } from './sealed-connection.cache.js';
import { CredentialSealer } from '../crypto/credential-sealer.js';
import {
  fileForRevocation,
  type NewGrant,
  type SavedGrant,
  writeGrant,
} from './grant-writes.repository.js';

export type { NewGrant, SavedGrant } from './grant-writes.repository.js';

type ConnectionWithCredentialRow = ConnectionRow & {
  keyId: string | null;
  ciphertext: Uint8Array | null;
  version: number | null;
};

export interface ConnectionFilter {
  /** Undefined means no restriction. */
  tenantIds?: readonly string[];
  integrationKeys?: readonly string[];
  status?: ConnectionStatus;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/**
 * Connections and their credentials. Tokens enter and leave as TokenSet;
 * the CredentialSealer turns them into ciphertext on the way to storage.
 */
@Injectable()
export class ConnectionsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sealer: CredentialSealer,
    /** Told after every committed write, so no replica's token read serves the old row. */
    @Optional() private readonly cache?: ConnectionCache,
  ) {}

  async findById(id: string): Promise<Connection | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.prisma.connection.findUnique({ where: { id } });
    return row ? toConnection(row) : undefined;
  }

  /** One query: the connection, its decrypted tokens and their version. */
  async findWithTokens(id: string): Promise<ConnectionWithTokens | undefined> {
    const found = await this.findSealed(id);
    return found && this.open(found);
  }

  /**
   * The token read: the sealed connection from the cache when it holds it,
   * else from PostgreSQL (and then cached); decrypted here, per request.
   * Only for reads whose freshness check is followed by the refresh path,
   * which reads through `findWithTokens`, never the cache.
   */
  async findWithTokensCached(id: string): Promise<ConnectionWithTokens | undefined> {
    const found = await this.findSealedCached(id);
    return found && this.open(found);
  }

  /**
   * The same, still sealed (`open` decrypts), for a read that derives what
   * it needs from the credential once (TokenAnswers). The cache is asked
   * before the id is checked: a hit proves it, and a miss checks it.
   */
  async findSealedCached(id: string): Promise<SealedConnection | undefined> {
    if (!this.cache) return this.findSealed(id);
    return this.cache.read(id, () => this.findSealed(id));
  }

  /** The plaintext leaves the boundary only here, one request at a time. */
  open({ connection, credential }: SealedConnection): ConnectionWithTokens {
    if (!credential) return { connection };
    return {
      connection,
      tokens: this.sealer.open(credential, connection),
      version: credential.version,
    };
  }

  private async findSealed(id: string): Promise<SealedConnection | undefined> {
    if (!isUuid(id)) return undefined;
    // The token hot path: one round trip, and raw SQL rather than a
    // relation query, which Prisma plans and runs as two (measured: see
    // bench/). Columns are aliased to the model's field names for toConnection.
    const [row] = await this.prisma.$queryRaw<ConnectionWithCredentialRow[]>`
      SELECT c.id, c.tenant_id AS "tenantId", c.integration_key AS "integrationKey",
             c.provider, c.status::text AS status, c.account_id AS "accountId",
             c.account_email AS "accountEmail", c.account_name AS "accountName",
             c.end_user_id AS "endUserId", c.scopes, c.expires_at AS "expiresAt",
             c.last_refreshed_at AS "lastRefreshedAt", c.last_sync_at AS "lastSyncAt",
             c.refresh_failures AS "refreshFailures", c.last_refresh_error AS "lastRefreshError",
             c.refresh_retry_at AS "refreshRetryAt",
             c.created_at AS "createdAt", c.updated_at AS "updatedAt",
             k.key_id AS "keyId", k.ciphertext, k.version
      FROM connections c LEFT JOIN credentials k ON k.connection_id = c.id
      WHERE c.id = ${id}::uuid`;
    if (!row) return undefined;
    const connection = toConnection(row);
    if (row.keyId === null) return { connection };
    return {
      connection,
      credential: { keyId: row.keyId, ciphertext: row.ciphertext!, version: row.version! },
    };
  }

  /** After a committed write (and after a failed one too: a lost COMMIT answer may still have committed). */
  private async invalidate(id: string): Promise<void> {
    await this.cache?.invalidate(id);
  }

  async list(filter: ConnectionFilter): Promise<Connection[]> {
    const where: Prisma.ConnectionWhereInput = {};
    if (filter.tenantIds) where.tenantId = { in: [...filter.tenantIds] };
    if (filter.integrationKeys) where.integrationKey = { in: [...filter.integrationKeys] };
    if (filter.status) where.status = filter.status;
    if (filter.after) {
      // Newest first; ties on createdAt broken by id, so pages never overlap or skip.
      where.OR = [
        { createdAt: { lt: filter.after.createdAt } },
        { createdAt: filter.after.createdAt, id: { lt: filter.after.id } },
      ];
    }
    const rows = await this.prisma.connection.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
    });
    return rows.map(toConnection);
  }

  /**
   * Stores a validated grant. The same tenant, integration and external
   * account map to the same connection, updated in place with the new
   * credentials (the old ones are returned, to be revoked).
   */
  async saveGrant(grant: NewGrant): Promise<SavedGrant> {
    const saved = await writeGrant(this.prisma, this.sealer, grant);
    await this.invalidate(saved.connection.id);
    return saved;
  }

  /**
   * Moves a connection to needs_reauth (only from active) and writes the
   * event in the same transaction; false when it was not active.
   */
  async markNeedsReauth(
    connection: Connection,
    reason: string,
    /** More for the event (the reconnect link). */
    detail: Record<string, string> = {},
  ): Promise<boolean> {
    try {
      return await this.markNeedsReauthOnce(connection, reason, detail);
    } finally {
      await this.invalidate(connection.id);
    }
  }

  private markNeedsReauthOnce(
    connection: Connection,
    reason: string,
    detail: Record<string, string>,
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.connection.updateMany({
        where: { id: connection.id, status: 'active' },
        data: { status: 'needs_reauth', lastRefreshError: reason },
      });
      if (count === 1)
        await tx.event.create({
          data: connectionEvent('connection.reauth_required', connection, { ...detail, reason }),
        });
      return count === 1;
    });
  }

  /**
   * Deletes the credentials and marks the connection revoked, with its event,
   * atomically. The ciphertext moves to the pending revocations (same key,
   * same binding) so the grant can still be revoked at the provider, if it
   * has revocation; returns that row's id, or undefined when there is none.
   */
  async revoke(
    connection: Connection,
    options: { providerRevocation: boolean },
  ): Promise<string | undefined> {
    try {
      return await this.revokeOnce(connection, options);
    } finally {
      await this.invalidate(connection.id);
    }
  }

  private revokeOnce(
    connection: Connection,
    options: { providerRevocation: boolean },
  ): Promise<string | undefined> {
    return this.prisma.$transaction(async (tx) => {
      const credential = await tx.credential.findUnique({ where: { connectionId: connection.id } });
      let revocationId: string | undefined;
      if (credential) {
        if (options.providerRevocation)
          revocationId = await fileForRevocation(tx, connection, credential);
        await tx.credential.delete({ where: { connectionId: connection.id } });
      }
      await tx.connection.update({
        where: { id: connection.id },
        data: { status: 'revoked', expiresAt: null },
      });
      // A provider without revocation (Microsoft): the credentials are gone here, the grant lives on there.
      await tx.event.create({
        data: connectionEvent('connection.revoked', connection, {
          providerRevocation: options.providerRevocation ? 'requested' : 'not_supported',
        }),
      });
      return revocationId;
    });
  }

  /** Key ids present in stored credentials, with one sample row each (start-up check). */
  async credentialKeySamples(): Promise<Array<{ keyId: string; connectionId: string }>> {
    return this.prisma.credential.findMany({
      distinct: ['keyId'],
      select: { keyId: true, connectionId: true },
    });
  }

  /** Decrypts one stored credential; used by the start-up key check. */
  async canOpen(connectionId: string): Promise<boolean> {
    try {
      await this.findWithTokens(connectionId);
      return true;
    } catch {
      return false;
    }
  }
}
