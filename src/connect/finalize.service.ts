import { Injectable, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { type Caller, canSeeTenant, canUseIntegration } from '../auth/caller.js';
import {
  ConflictError,
  GoneError,
  NotFoundError,
  PermissionError,
} from '../common/errors/app-error.js';
import { constantTimeEqual, sha256Hex } from '../common/random.js';
import { isUuid } from '../common/uuid.js';
import { ParkedGrants, type PendingGrant } from '../parked-grants/parked-grants.service.js';
import { revocable, RevocationService } from '../revocation/revocation.service.js';
import { Clock } from '../infra/clock/clock.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { ConnectGrants } from './connect-grants.service.js';
import { ConnectSessionsRepository } from './connect-sessions.repository.js';

export interface FinalizeInput {
  finalizeToken: string;
  endUserId: string;
}

const sessionNotFound = () =>
  new NotFoundError('connect_session_not_found', 'No such connect session');
const finalizedMeanwhile = () =>
  new ConflictError('nothing_to_finalize', 'This connect session was finalized meanwhile');

/**
 * Finalize (integrations with requireFinalize): the app's backend, which
 * knows who is logged in, confirms that the browser that completed the
 * flow belonged to the end user the session was made for. A match stores
 * the parked grant; a mismatch revokes it.
 */
@Injectable()
export class FinalizeService {
  private readonly logger = new Logger(FinalizeService.name);

  constructor(
    private readonly sessions: ConnectSessionsRepository,
    private readonly pendingGrants: ParkedGrants,
    private readonly grants: ConnectGrants,
    private readonly revocations: RevocationService,
    private readonly integrations: IntegrationRegistry,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async finalize(
    caller: Caller,
    sessionId: string,
    input: FinalizeInput,
  ): Promise<{ connectionId: string }> {
    const session = isUuid(sessionId) ? await this.sessions.findById(sessionId) : undefined;
    if (
      !session ||
      !canSeeTenant(caller, session.tenantId) ||
      !canUseIntegration(caller, session.integrationKey)
    ) {
      throw sessionNotFound();
    }
    const pending = await this.pendingGrants.find(session.id);
    if (!pending) {
      throw new ConflictError(
        'nothing_to_finalize',
        session.connectionId
          ? 'This connect session is already finalized'
          : 'This connect session has no grant waiting for finalize (not completed, refused, or expired)',
      );
    }
    if (!constantTimeEqual(sha256Hex(input.finalizeToken), pending.finalizeTokenHash)) {
      throw new PermissionError('finalize_token_invalid', 'The finalize token does not match');
    }
    if (pending.expiresAt <= this.clock.now()) {
      await this.revoke(caller, pending, 'finalize_expired');
      throw new GoneError(
        'finalize_expired',
        'The grant waited too long for finalize; connect again',
      );
    }
    if (input.endUserId !== pending.endUserId) {
      // The link was completed in someone else's browser: their account must not be attached.
      await this.revoke(caller, pending, 'end_user_mismatch');
      this.logger.warn({
        sessionId: session.id,
        tenantId: session.tenantId,
        msg: 'finalize refused: another end user completed the connect flow; grant revoked',
      });
      throw new PermissionError(
        'end_user_mismatch',
        'The connect flow was completed for another end user; the grant was not kept (and revoked where the provider allows it)',
      );
    }
    const integration = this.integrations.get(pending.integrationKey);
    if (!integration) throw sessionNotFound();
    const taken = await this.pendingGrants.take(session.id);
    if (!taken) throw finalizedMeanwhile();
    let connectionId: string;
    try {
      connectionId = await this.grants.store(
        integration,
        {
          tenantId: taken.tenantId,
          endUserId: taken.endUserId,
          sessionId: session.id,
          serviceKeyId: caller.keyId,
          requestId: caller.requestId,
        },
        taken.account,
        taken.tokens,
      );
    } catch (error) {
      // Not stored: put it back so that finalize can be retried, or, if
      // even that fails, log it: the grant is then only at the provider.
      await this.pendingGrants.restore(taken).catch((restoreError: unknown) =>
        this.logger.error({
          err: restoreError,
          sessionId: session.id,
          msg: 'a finalized grant could be neither stored nor put back',
        }),
      );
      throw error;
    }
    await this.sessions.recordFinalize(session.id, { connectionId });
    return { connectionId };
  }

  /** Revokes the parked grant; 409 if a concurrent finalize stored it first. */
  private async revoke(caller: Caller, pending: PendingGrant, errorCode: string): Promise<void> {
    const discarded = await this.pendingGrants.discard(pending.id, (key) =>
      revocable(this.integrations, key),
    );
    if (!discarded) throw finalizedMeanwhile();
    await this.sessions.recordFinalize(pending.id, { errorCode });
    this.audit.recordInBackground({
      at: this.clock.now(),
      action: 'connect.finalize_refused',
      tenantId: pending.tenantId,
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
      detail: { sessionId: pending.id, reason: errorCode },
    });
    if (discarded.revocationId)
      await this.revocations.deliverNowOrLater(discarded.revocationId, {
        serviceKeyId: caller.keyId,
        requestId: caller.requestId,
      });
  }
}
