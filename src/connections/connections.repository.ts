import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { UnavailableError } from '../common/errors/app-error.js';
import { isUuid } from '../common/uuid.js';
import { DecryptionError, TokenCipher } from '../crypto/token-cipher.js';
import { Prisma } from '../infra/prisma/generated/client.js';
import type {
  Connection as ConnectionRow,
  Credential as CredentialRow,
} from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type {
  Connection,
  ConnectionStatus,
  ConnectionWithTokens,
  Tokens,
  TokenSet,
} from './connection.js';
import { decodeTokenSet, encodeTokenSet } from './token-set.codec.js';

export interface NewGrant {
  tenantId: string;
  integrationKey: string;
  provider: string;
  account: { id: string; email?: string; name?: string };
  endUserId?: string;
  tokens: Tokens;
  status: ConnectionStatus;
  at: Date;
}

export interface ConnectionFilter {
  /** Undefined means no restriction. */
  tenantIds?: readonly string[];
  integrationKeys?: readonly string[];
  status?: ConnectionStatus;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/**
 * Connections and their credentials. This is the encryption boundary: tokens
 * enter and leave as TokenSet, and only ciphertext reaches the database.
 */
@Injectable()
export class ConnectionsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly cipher: TokenCipher,
  ) {}

  async findById(id: string): Promise<Connection | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.prisma.connection.findUnique({ where: { id } });
    return row ? toConnection(row) : undefined;
  }

  /** One query: the connection, its decrypted tokens and their version. */
  async findWithTokens(id: string): Promise<ConnectionWithTokens | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.prisma.connection.findUnique({
      where: { id },
      include: { credential: true },
    });
    if (!row) return undefined;
    const connection = toConnection(row);
    if (!row.credential) return { connection };
    return {
      connection,
      tokens: this.open(row.credential, connection),
      version: row.credential.version,
    };
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
   * Stores a new grant. The same tenant, integration and external account
   * map to the same connection, updated in place with fresh credentials.
   */
  async saveGrant(grant: NewGrant): Promise<{ connection: Connection; created: boolean }> {
    try {
      return await this.saveGrantOnce(grant);
    } catch (error) {
      // Two callbacks for a brand-new account raced on the unique key; the
      // loser now finds the winner's row and updates it.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        return this.saveGrantOnce(grant);
      }
      throw error;
    }
  }

  private saveGrantOnce(grant: NewGrant): Promise<{ connection: Connection; created: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      const identity = {
        tenantId: grant.tenantId,
        integrationKey: grant.integrationKey,
        accountId: grant.account.id,
      };
      const existing = await tx.connection.findUnique({
        where: { tenantId_integrationKey_accountId: identity },
        include: { credential: { select: { version: true } } },
      });
      const id = existing?.id ?? randomUUID();
      const sealed = this.cipher.seal(encodeTokenSet(grant.tokens), {
        tenantId: grant.tenantId,
        connectionId: id,
      });
      const fields = {
        provider: grant.provider,
        status: grant.status,
        accountEmail: grant.account.email ?? null,
        accountName: grant.account.name ?? null,
        endUserId: grant.endUserId ?? existing?.endUserId ?? null,
        scopes: grant.tokens.scopes,
        expiresAt: grant.tokens.expiresAt,
        lastRefreshedAt: grant.at,
      };
      const credential = { keyId: sealed.keyId, ciphertext: sealed.ciphertext };
      if (!existing) {
        const row = await tx.connection.create({
          data: {
            id,
            ...identity,
            ...fields,
            credential: { create: { ...credential, version: 1 } },
          },
        });
        return { connection: toConnection(row), created: true };
      }
      const version = (existing.credential?.version ?? 0) + 1;
      const row = await tx.connection.update({
        where: { id },
        data: {
          ...fields,
          credential: {
            upsert: { create: { ...credential, version }, update: { ...credential, version } },
          },
        },
      });
      return { connection: toConnection(row), created: false };
    });
  }

  /**
   * Compare-and-set: writes the new tokens only if the credential is still
   * at `expectedVersion`. Tokens, expiry and scopes change in one
   * transaction, before anyone is handed the new access token. Returns the
   * stored set, or undefined when another writer got there first.
   */
  async replaceTokens(
    connection: Connection,
    expectedVersion: number,
    tokens: Tokens,
    at: Date,
  ): Promise<TokenSet | undefined> {
    const sealed = this.cipher.seal(encodeTokenSet(tokens), {
      tenantId: connection.tenantId,
      connectionId: connection.id,
    });
    const written = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.credential.updateMany({
        where: { connectionId: connection.id, version: expectedVersion },
        data: { keyId: sealed.keyId, ciphertext: sealed.ciphertext, version: expectedVersion + 1 },
      });
      if (count !== 1) return false;
      await tx.connection.update({
        where: { id: connection.id },
        data: { expiresAt: tokens.expiresAt, scopes: tokens.scopes, lastRefreshedAt: at },
      });
      return true;
    });
    return written ? (tokens as TokenSet) : undefined;
  }

  /** Moves a connection to `status` only from one of `from`; returns whether it moved. */
  async transition(
    id: string,
    from: readonly ConnectionStatus[],
    status: ConnectionStatus,
  ): Promise<boolean> {
    const { count } = await this.prisma.connection.updateMany({
      where: { id, status: { in: [...from] } },
      data: { status },
    });
    return count === 1;
  }

  /** Deletes the credentials and marks the connection revoked, atomically. */
  async revoke(id: string): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.credential.deleteMany({ where: { connectionId: id } }),
      this.prisma.connection.update({
        where: { id },
        data: { status: 'revoked', expiresAt: null },
      }),
    ]);
  }

  /** Key ids present in stored credentials, with one sample row each (start-up check). */
  async credentialKeySamples(): Promise<Array<{ keyId: string; connectionId: string }>> {
    const rows = await this.prisma.credential.findMany({
      distinct: ['keyId'],
      select: { keyId: true, connectionId: true },
    });
    return rows;
  }

  /** Decrypts one stored credential; used by the start-up key check. */
  async canOpen(connectionId: string): Promise<boolean> {
    const row = await this.prisma.connection.findUnique({
      where: { id: connectionId },
      include: { credential: true },
    });
    if (!row?.credential) return true;
    try {
      this.open(row.credential, toConnection(row));
      return true;
    } catch {
      return false;
    }
  }

  private open(credential: CredentialRow, connection: Connection): TokenSet {
    try {
      const plaintext = this.cipher.open(
        { keyId: credential.keyId, ciphertext: credential.ciphertext },
        { tenantId: connection.tenantId, connectionId: connection.id },
      );
      return decodeTokenSet(plaintext);
    } catch (error) {
      if (error instanceof DecryptionError) {
        throw new UnavailableError(
          'credentials_unreadable',
          'The stored credentials of this connection cannot be decrypted',
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
}

function toConnection(row: ConnectionRow): Connection {
  const connection: Connection = {
    id: row.id,
    tenantId: row.tenantId,
    integrationKey: row.integrationKey,
    provider: row.provider,
    status: row.status,
    account: { id: row.accountId },
    scopes: row.scopes,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
  if (row.accountEmail) connection.account.email = row.accountEmail;
  if (row.accountName) connection.account.name = row.accountName;
  if (row.endUserId) connection.endUserId = row.endUserId;
  if (row.expiresAt) connection.expiresAt = row.expiresAt;
  if (row.lastRefreshedAt) connection.lastRefreshedAt = row.lastRefreshedAt;
  if (row.lastSyncAt) connection.lastSyncAt = row.lastSyncAt;
  return connection;
}
