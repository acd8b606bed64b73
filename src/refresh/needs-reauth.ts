import { Injectable, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { ConnectSessionsService } from '../connect/connect-sessions.service.js';
import type { Connection } from '../connections/connection.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';

/**
 * Ends a grant the provider refused: the connection moves to needs_reauth
 * (only from active) and its `connection.reauth_required` event, written in
 * the same transaction, carries a single-use reconnect link bound to the
 * connection and its external account.
 */
@Injectable()
export class NeedsReauth {
  private readonly logger = new Logger('RefreshService');

  constructor(
    private readonly connections: ConnectionStore,
    private readonly sessions: ConnectSessionsService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async mark(connection: Connection, reason: string): Promise<void> {
    const link = await this.reconnectLink(connection);
    const detail: Record<string, string> = link
      ? { reconnectUrl: link.connectUrl, reconnectUrlExpiresAt: link.expiresAt.toISOString() }
      : {};
    const marked = await this.connections.markNeedsReauth(connection, reason, detail);
    // Another caller marked it first and sent its own link: this one is never handed out.
    if (!marked && link) await this.sessions.discard(link.id).catch(() => undefined);
    if (!marked) return;
    this.audit.recordInBackground({
      at: this.clock.now(),
      action: 'connection.reauth_required',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      detail: { reason },
    });
    this.logger.warn({
      connectionId: connection.id,
      reason,
      msg: 'connection needs re-authorisation',
    });
  }

  /**
   * Made before the status changes, so the event is written with it;
   * without one (its write failed) the event still goes out, and the app
   * can make a session with `connectionId`.
   */
  private async reconnectLink(connection: Connection) {
    try {
      return await this.sessions.createReconnectLink(connection);
    } catch (error) {
      this.logger.warn({
        err: error,
        connectionId: connection.id,
        msg: 'no reconnect link for the reauth_required event',
      });
      return undefined;
    }
  }
}
