import { Injectable, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import { UnavailableError } from '../common/errors/app-error.js';
import type { Connection, TokenSet } from '../connections/connection.js';
import { ConnectionStore, CredentialStore } from '../connections/connection-store.js';
import { PendingCredentialsStore } from '../connections/pending-credentials.store.js';
import { Clock } from '../infra/clock/clock.js';
import { type RefreshOrigin, readRefreshable } from './refresh-request.js';

export type FreshTokens = Parameters<CredentialStore['replaceTokens']>[2];

/**
 * What a refresh got from the provider, written: stored with a
 * compare-and-set on the credential version, kept aside when that write
 * fails (a rotated refresh token is spent), and audited behind.
 */
@Injectable()
export class RefreshedTokens {
  private readonly logger = new Logger('RefreshService');

  constructor(
    private readonly connections: ConnectionStore,
    private readonly credentials: CredentialStore,
    private readonly pending: PendingCredentialsStore,
    private readonly audit: AuditLog,
    private readonly fingerprint: TokenFingerprint,
    private readonly clock: Clock,
  ) {}

  /** Tokens of a refresh whose write failed earlier, still to be stored. */
  unstored(connection: Connection, version: number): Promise<FreshTokens | undefined> {
    return this.pending.find(connection, version);
  }

  /**
   * Writes refreshed tokens (compare-and-set). If the write fails, the
   * tokens are kept aside for the next attempt and the caller gets a
   * retryable 503, never a token that is not stored.
   */
  async store(
    connection: Connection,
    version: number,
    fresh: FreshTokens,
    lostScopes: readonly string[] = [],
  ): Promise<TokenSet> {
    let written: TokenSet | undefined;
    try {
      written = await this.credentials.replaceTokens(
        connection,
        version,
        fresh,
        this.clock.now(),
        lostScopes,
      );
    } catch (error) {
      await this.pending.save(connection, version, fresh);
      this.logger.error({
        err: error,
        connectionId: connection.id,
        msg: 'refreshed tokens could not be stored; kept for the next attempt',
      });
      throw new UnavailableError(
        'credentials_write_failed',
        'The refreshed credentials could not be stored; retry shortly',
        { cause: error, retryAfterSeconds: 1 },
      );
    }
    await this.pending.clear(connection.id);
    // Undefined: another writer got there first; its tokens are the stored truth.
    return written ?? (await readRefreshable(this.connections, connection.id)).tokens;
  }

  /** Written behind: the refresh is done and stored whatever the audit does. */
  audited(
    connection: Connection,
    stored: TokenSet,
    origin: RefreshOrigin,
    detail: { attempt: number } | { recovered: true },
  ): void {
    this.audit.recordInBackground({
      at: this.clock.now(),
      action: 'token.refreshed',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: origin.serviceKeyId,
      requestId: origin.requestId,
      tokenFingerprint: this.fingerprint.of(stored.accessToken),
      detail: { trigger: origin.trigger, ...detail },
    });
  }
}
