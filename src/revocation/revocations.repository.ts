import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { TokenSet } from '../connections/connection.js';
import { CredentialSealer } from '../crypto/credential-sealer.js';

export interface PendingRevocation {
  id: string;
  connectionId: string;
  tenantId: string;
  integrationKey: string;
  tokens: TokenSet;
  attempts: number;
}

/** Tokens of disconnected connections, kept (encrypted) only until the provider has revoked them. */
@Injectable()
export class RevocationsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sealer: CredentialSealer,
  ) {}

  async find(id: string): Promise<PendingRevocation | undefined> {
    const row = await this.prisma.pendingRevocation.findUnique({ where: { id } });
    if (!row) return undefined;
    return {
      id: row.id,
      connectionId: row.connectionId,
      tenantId: row.tenantId,
      integrationKey: row.integrationKey,
      attempts: row.attempts,
      tokens: this.sealer.open(row, { id: row.connectionId, tenantId: row.tenantId }),
    };
  }

  async delete(id: string): Promise<void> {
    await this.prisma.pendingRevocation.deleteMany({ where: { id } });
  }

  async recordFailure(id: string, errorCode: string): Promise<void> {
    await this.prisma.pendingRevocation.updateMany({
      where: { id },
      data: { attempts: { increment: 1 }, lastError: errorCode },
    });
  }

  /** The key ids pending revocations are sealed under (the start-up key check). */
  async keyIds(): Promise<string[]> {
    const rows = await this.prisma.pendingRevocation.findMany({
      distinct: ['keyId'],
      select: { keyId: true },
    });
    return rows.map((row) => row.keyId);
  }

  /** Ids of revocations still pending, oldest first (the sweep re-queues them). */
  async pendingIds(limit: number): Promise<string[]> {
    const rows = await this.prisma.pendingRevocation.findMany({
      select: { id: true },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    return rows.map((row) => row.id);
  }
}
