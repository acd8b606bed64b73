import { Injectable } from '@nestjs/common';
import { type Caller, canSeeTenant, canUseIntegration } from '../auth/caller.js';
import { NotFoundError } from '../common/errors/app-error.js';
import { constantTimeEqual } from '../common/random.js';
import { isUuid } from '../common/uuid.js';
import { AppConfig } from '../config/app-config.js';
import { ParkedGrants } from '../parked-grants/parked-grants.service.js';
import { Clock } from '../infra/clock/clock.js';
import type { ConnectSessionState } from './connect-session.js';
import { hashSessionToken } from './connect-sessions.service.js';
import { ConnectSessionsRepository } from './connect-sessions.repository.js';

export type ConnectSessionStatus =
  | { status: 'pending' }
  | { status: 'completed'; connectionId: string }
  | { status: 'awaiting_finalize' }
  | { status: 'failed'; error: string }
  | { status: 'expired' };

export interface ConnectSessionView {
  id: string;
  integration: string;
  tenantId: string;
  expiresAt: Date;
  result: ConnectSessionStatus;
}

/** Who asks: a service key, or the browser holding the session's own token. */
export type StatusReader = { caller: Caller } | { sessionToken: string };

const notFound = () => new NotFoundError('connect_session_not_found', 'No such connect session');

/**
 * How a connect session ended, for a frontend whose popup lost its
 * `window.opener` (providers that send Cross-Origin-Opener-Policy cut it,
 * and with it the result page's postMessage).
 */
@Injectable()
export class ConnectSessionStatusService {
  constructor(
    private readonly config: AppConfig,
    private readonly sessions: ConnectSessionsRepository,
    private readonly pendingGrants: ParkedGrants,
    private readonly clock: Clock,
  ) {}

  async read(id: string, reader: StatusReader): Promise<ConnectSessionView> {
    const session = isUuid(id) ? await this.sessions.findState(id) : undefined;
    // Someone else's session, or a token of another session, is "not found": no oracle.
    if (!session || !mayRead(session, reader)) throw notFound();
    return {
      id: session.id,
      integration: session.integrationKey,
      tenantId: session.tenantId,
      expiresAt: session.expiresAt,
      result: await this.statusOf(session),
    };
  }

  private async statusOf(session: ConnectSessionState): Promise<ConnectSessionStatus> {
    if (session.connectionId) return { status: 'completed', connectionId: session.connectionId };
    if (session.errorCode) return { status: 'failed', error: session.errorCode };
    const now = this.clock.now().getTime();
    if (session.completedAt) {
      // requireFinalize: the grant is parked until the app's backend finalizes or it expires.
      const parked = await this.pendingGrants.find(session.id);
      return parked && parked.expiresAt.getTime() > now
        ? { status: 'awaiting_finalize' }
        : { status: 'expired' };
    }
    // A flow started just before the session expired may still come back.
    const deadline = session.startedAt
      ? session.startedAt.getTime() + this.config.connect.flowTtlSeconds * 1000
      : session.expiresAt.getTime();
    return now < deadline ? { status: 'pending' } : { status: 'expired' };
  }
}

function mayRead(session: ConnectSessionState, reader: StatusReader): boolean {
  if ('sessionToken' in reader) {
    return constantTimeEqual(hashSessionToken(reader.sessionToken), session.tokenHash);
  }
  return (
    canSeeTenant(reader.caller, session.tenantId) &&
    canUseIntegration(reader.caller, session.integrationKey)
  );
}
