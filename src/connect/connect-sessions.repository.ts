import { Injectable } from '@nestjs/common';
import type { ConnectSession as ConnectSessionRow } from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { ConnectSession, ConnectSessionState } from './connect-session.js';

@Injectable()
export class ConnectSessionsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(session: ConnectSession & { tokenHash: string }): Promise<void> {
    await this.prisma.connectSession.create({
      data: {
        id: session.id,
        tokenHash: session.tokenHash,
        tenantId: session.tenantId,
        integrationKey: session.integrationKey,
        endUserId: session.endUserId,
        returnTo: session.returnTo,
        scopes: session.scopes,
        serviceKeyId: session.serviceKeyId,
        reconnectConnectionId: session.reconnect?.connectionId,
        reconnectAccountId: session.reconnect?.accountId,
        expiresAt: session.expiresAt,
      },
    });
  }

  /** Best effort: a reconnect link that was never handed out (its connection was already marked). */
  async discard(id: string): Promise<void> {
    await this.prisma.connectSession.deleteMany({ where: { id, startedAt: null } });
  }

  async findByTokenHash(tokenHash: string): Promise<ConnectSession | undefined> {
    const row = await this.prisma.connectSession.findUnique({ where: { tokenHash } });
    return row ? toSession(row) : undefined;
  }

  async findById(id: string): Promise<(ConnectSession & { connectionId?: string }) | undefined> {
    const row = await this.prisma.connectSession.findUnique({ where: { id } });
    if (!row) return undefined;
    const session = toSession(row);
    return row.connectionId ? { ...session, connectionId: row.connectionId } : session;
  }

  /** The session with how it ended, for its status (`GET /v1/connect-sessions/:id`). */
  async findState(id: string): Promise<ConnectSessionState | undefined> {
    const row = await this.prisma.connectSession.findUnique({ where: { id } });
    if (!row) return undefined;
    return {
      ...toSession(row),
      tokenHash: row.tokenHash,
      completedAt: row.completedAt ?? undefined,
      connectionId: row.connectionId ?? undefined,
      errorCode: row.errorCode ?? undefined,
    };
  }

  /** What finalize made of the session's parked grant: its connection, or why it was refused. */
  async recordFinalize(
    id: string,
    outcome: { connectionId: string } | { errorCode: string },
  ): Promise<void> {
    await this.prisma.connectSession.updateMany({ where: { id }, data: outcome });
  }

  /** Marks the session started if it is unused and unexpired; single use across replicas. */
  async claim(id: string, now: Date): Promise<boolean> {
    const { count } = await this.prisma.connectSession.updateMany({
      where: { id, startedAt: null, expiresAt: { gt: now } },
      data: { startedAt: now },
    });
    return count === 1;
  }

  async complete(
    id: string,
    outcome: { connectionId?: string; errorCode?: string },
    now: Date,
  ): Promise<void> {
    await this.prisma.connectSession.updateMany({
      where: { id, completedAt: null },
      data: { completedAt: now, connectionId: outcome.connectionId, errorCode: outcome.errorCode },
    });
  }
}

function toSession(row: ConnectSessionRow): ConnectSession {
  const session: ConnectSession = {
    id: row.id,
    tenantId: row.tenantId,
    integrationKey: row.integrationKey,
    scopes: row.scopes,
    expiresAt: row.expiresAt,
  };
  if (row.serviceKeyId) session.serviceKeyId = row.serviceKeyId;
  if (row.reconnectConnectionId && row.reconnectAccountId)
    session.reconnect = {
      connectionId: row.reconnectConnectionId,
      accountId: row.reconnectAccountId,
    };
  if (row.endUserId) session.endUserId = row.endUserId;
  if (row.returnTo) session.returnTo = row.returnTo;
  if (row.startedAt) session.startedAt = row.startedAt;
  return session;
}
