import { Injectable, Logger } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { AuditLog } from '../audit/audit-log.js';
import { Clock } from '../infra/clock/clock.js';
import { retryAfterOf } from '../common/errors/app-error.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import type { Connection, ConnectionStatus } from './connection.js';
import { assertCallerMayUse } from './connection-access.js';
import { ConnectionsRepository } from './connections.repository.js';
import { RevocationService } from './revocation.service.js';

export interface ListConnectionsQuery {
  tenantId?: string;
  integration?: string;
  status?: ConnectionStatus;
  after?: { createdAt: Date; id: string };
  limit: number;
}

@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger(ConnectionsService.name);

  constructor(
    private readonly repository: ConnectionsRepository,
    private readonly revocations: RevocationService,
    private readonly queue: JobQueue,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async get(caller: Caller, id: string): Promise<Connection> {
    return assertCallerMayUse(caller, await this.repository.findById(id));
  }

  /** Lists what the caller may see, intersected with the query's filters. */
  async list(caller: Caller, query: ListConnectionsQuery): Promise<Connection[]> {
    const tenantIds = narrow(caller.tenants, query.tenantId);
    const integrationKeys = narrow(caller.integrations, query.integration);
    if (tenantIds?.length === 0 || integrationKeys?.length === 0) return [];
    return this.repository.list({
      tenantIds,
      integrationKeys,
      status: query.status,
      after: query.after,
      limit: query.limit,
    });
  }

  /**
   * Deletes the credentials at once and revokes the grant at the provider
   * (RFC 7009); when the provider is down, the revocation is retried in the
   * background. Disconnecting twice is a no-op.
   */
  async disconnect(caller: Caller, id: string): Promise<void> {
    const connection = assertCallerMayUse(caller, await this.repository.findById(id));
    if (connection.status === 'revoked') return;
    const revocationId = await this.repository.revoke(connection);
    this.audit.record({
      at: this.clock.now(),
      action: 'connection.revoked',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
    });
    if (revocationId) await this.revokeNowOrLater(connection, revocationId);
  }

  private async revokeNowOrLater(connection: Connection, revocationId: string): Promise<void> {
    try {
      await this.revocations.deliver(revocationId);
    } catch (error) {
      const retryAfter = retryAfterOf(error);
      this.logger.warn({
        err: error,
        connectionId: connection.id,
        msg: 'revocation failed; retrying in the background',
      });
      // If even the queue is down, the revocation sweep finds the row in PostgreSQL.
      await this.queue
        .enqueue(
          'revocation.deliver',
          { revocationId },
          { jobId: `revoke-${revocationId}`, delayMs: (retryAfter ?? 1) * 1000 },
        )
        .catch((queueError: unknown) =>
          this.logger.error({ err: queueError, msg: 'could not queue the revocation' }),
        );
    }
  }
}

/** The caller's grant list narrowed by an optional filter; undefined means "all". */
function narrow(
  granted: readonly string[],
  wanted: string | undefined,
): readonly string[] | undefined {
  if (wanted === undefined) return granted.length ? granted : undefined;
  return granted.length === 0 || granted.includes(wanted) ? [wanted] : [];
}
