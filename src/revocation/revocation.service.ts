import { Injectable, Logger } from '@nestjs/common';
import type { AuditOrigin } from '../audit/audit-entry.js';
import { AuditLog } from '../audit/audit-log.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import { ProviderError, retryAfterOf } from '../common/errors/app-error.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import { RevocationsRepository } from './revocations.repository.js';

export type RevocationOutcome = 'revoked' | 'unsupported' | 'gone' | 'abandoned';

/**
 * Whether a grant we no longer keep may be revoked: not where revoking one
 * token ends every grant of the user and app (Google, Pipedrive), which
 * would take the user's working connection with it.
 */
export function revocable(integrations: IntegrationRegistry, integrationKey: string): boolean {
  return integrations.get(integrationKey)?.revokeSupersededGrants ?? true;
}

/** Beyond this many failed deliveries a pending revocation is dropped (and logged). */
const MAX_REVOCATION_ATTEMPTS = 50;

/**
 * Delivers RFC 7009 revocations of disconnected grants. The tokens stay
 * (encrypted) in pending_revocations until the provider confirms; transient
 * failures are thrown so the queue retries them.
 */
@Injectable()
export class RevocationService {
  private readonly logger = new Logger(RevocationService.name);

  constructor(
    private readonly revocations: RevocationsRepository,
    private readonly integrations: IntegrationRegistry,
    private readonly oauth: OAuthClient,
    private readonly queue: JobQueue,
    private readonly audit: AuditLog,
    private readonly fingerprint: TokenFingerprint,
  ) {}

  /** Key ids of the tokens waiting here (the key check refuses to start without them). */
  keyIds(): Promise<string[]> {
    return this.revocations.keyIds();
  }

  /** Re-queues revocations still pending in PostgreSQL (e.g. queued while Redis was down). */
  async requeuePending(limit = 1_000): Promise<number> {
    const ids = await this.revocations.pendingIds(limit);
    for (const revocationId of ids) {
      await this.queue.enqueue('revocation.deliver', { revocationId });
    }
    return ids.length;
  }

  /**
   * Tries at once (the usual case: the provider is up), and hands a failure
   * to the queue, which retries with backoff. If even the queue is down,
   * the revocation sweep finds the row in PostgreSQL. `origin` (the key
   * and request of the disconnect or reconnect) rides along with the
   * retries, so the delivery's audit row names who asked for it.
   */
  async deliverNowOrLater(revocationId: string, origin: AuditOrigin = {}): Promise<void> {
    try {
      await this.deliver(revocationId, origin);
    } catch (error) {
      const retryAfter = retryAfterOf(error);
      this.logger.warn({
        err: error,
        revocationId,
        msg: 'revocation failed; retrying in the background',
      });
      await this.queue
        .enqueue(
          'revocation.deliver',
          { revocationId, ...definedOnly(origin) },
          { delayMs: (retryAfter ?? 1) * 1000 },
        )
        .catch((queueError: unknown) =>
          this.logger.error({ err: queueError, msg: 'could not queue the revocation' }),
        );
    }
  }

  async deliver(revocationId: string, origin: AuditOrigin = {}): Promise<RevocationOutcome> {
    const pending = await this.revocations.find(revocationId);
    if (!pending) return 'gone';
    const integration = this.integrations.get(pending.integrationKey);
    if (!integration) return 'gone';
    // Revoking the refresh token ends the whole grant at most providers
    // (RFC 7009 §2.1); the access token is the fallback when there is none.
    const [token, hint] = pending.tokens.refreshToken
      ? ([pending.tokens.refreshToken, 'refresh_token'] as const)
      : ([pending.tokens.accessToken, 'access_token'] as const);
    try {
      const supported = await this.oauth.revoke(integration, token, hint, pending.tokens.extras);
      await this.revocations.delete(pending.id);
      this.auditOutcome(pending, origin, supported ? 'revoked' : 'unsupported', hint);
      return supported ? 'revoked' : 'unsupported';
    } catch (error) {
      const transient = error instanceof ProviderError && error.detail.transient;
      const code = error instanceof ProviderError ? error.code : 'revocation_failed';
      if (transient && pending.attempts + 1 < MAX_REVOCATION_ATTEMPTS) {
        await this.revocations.recordFailure(pending.id, code);
        throw error;
      }
      // A definite refusal (or endless failure) will not change by retrying.
      this.logger.warn({
        err: error,
        connectionId: pending.connectionId,
        errorCode: code,
        msg: 'revocation abandoned',
      });
      await this.revocations.delete(pending.id);
      this.auditOutcome(pending, origin, 'abandoned', hint, code);
      return 'abandoned';
    }
  }

  private auditOutcome(
    pending: { connectionId: string; tenantId?: string; tokens: { accessToken: string } },
    origin: AuditOrigin,
    outcome: RevocationOutcome,
    hint: string,
    errorCode?: string,
  ): void {
    this.audit.recordInBackground({
      at: new Date(),
      action: 'grant.revocation_delivered',
      connectionId: pending.connectionId,
      ...(pending.tenantId !== undefined && { tenantId: pending.tenantId }),
      ...definedOnly(origin),
      tokenFingerprint: this.fingerprint.of(pending.tokens.accessToken),
      detail: { outcome, revoked: hint, ...(errorCode !== undefined && { errorCode }) },
    });
  }
}

/** The origin's set fields only: a job payload is a strict object, and the audit row omits unknowns. */
function definedOnly(origin: AuditOrigin): AuditOrigin {
  return {
    ...(origin.serviceKeyId !== undefined && { serviceKeyId: origin.serviceKeyId }),
    ...(origin.requestId !== undefined && { requestId: origin.requestId }),
  };
}
