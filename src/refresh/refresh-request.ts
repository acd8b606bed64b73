import { ConflictError } from '../common/errors/app-error.js';
import type { ConnectionWithTokens } from '../connections/connection.js';
import { connectionNotFound } from '../connections/connection-access.js';
import type { ConnectionStore } from '../connections/connection-store.js';

export interface RefreshOptions {
  /**
   * Attempts at the provider for transient failures (5xx, 429, timeouts).
   * Callers waiting on HTTP get a few; queue jobs get one and let the queue
   * retry later.
   */
  attempts: number;
  /**
   * How long the caller can wait in all (HTTP callers): no attempt starts,
   * and no wait begins, that could end past it; the caller gets the last
   * failure (a 503 with Retry-After) instead. Jobs leave it unset.
   */
  waitMs?: number;
}

/** Who or what asked for a refresh: the audit row of the refresh says it. */
export interface RefreshOrigin {
  trigger:
    | 'read'
    | 'forced'
    | 'proactive'
    | 'worker'
    | 'worker_rejected'
    | 'rejected'
    | 'proxy'
    | 'proxy_rejected';
  serviceKeyId?: string;
  requestId?: string;
}

export function needsReauth(): ConflictError {
  return new ConflictError('needs_reauth', 'The grant is no longer valid; the user must reconnect');
}

/** A connection a refresh may act on: active, with stored tokens and their version. */
export async function readRefreshable(
  connections: ConnectionStore,
  connectionId: string,
): Promise<Required<ConnectionWithTokens>> {
  const current = await connections.findWithTokens(connectionId);
  if (!current) throw connectionNotFound();
  if (current.connection.status === 'needs_reauth') throw needsReauth();
  if (!current.tokens || current.version === undefined || current.connection.status !== 'active') {
    throw new ConflictError(
      'connection_not_active',
      `The connection is ${current.connection.status}`,
    );
  }
  return current as Required<ConnectionWithTokens>;
}
