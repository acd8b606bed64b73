import { Injectable, Optional } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { Connection, Tokens, TokenSet } from './connection.js';
import { connectionEvent } from './connection-events.js';
import { ConnectionCache } from './connection-cache.js';
import { CredentialSealer } from '../crypto/credential-sealer.js';

/**
 * The writes of a refresh. Correctness across replicas comes from here, not
 * from the Redis lock: a fence on the credential version says who may send
 * its refresh token, and the new tokens are written with a compare-and-set
 * on that version.
 */
@Injectable()
export class CredentialsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sealer: CredentialSealer,
    /** Told after every committed write that a token read could see. */
    @Optional() private readonly cache?: ConnectionCache,
  ) {}

  /**
   * Takes (or renews) the right to send the refresh token of `version`.
   * False when someone else holds an unexpired fence, or the credential has
   * moved past that version. The fence columns are neither read by the
   * token read nor cached, so fence writes invalidate nothing.
   */
  async claimFence(
    connectionId: string,
    version: number,
    owner: string,
    now: Date,
    until: Date,
  ): Promise<boolean> {
    const { count } = await this.prisma.credential.updateMany({
      where: {
        connectionId,
        version,
        OR: [
          { refreshLeaseUntil: null },
          { refreshLeaseUntil: { lt: now } },
          { refreshLeaseOwner: owner },
        ],
      },
      data: { refreshLeaseOwner: owner, refreshLeaseUntil: until },
    });
    return count === 1;
  }

  async releaseFence(connectionId: string, owner: string): Promise<void> {
    await this.prisma.credential.updateMany({
      where: { connectionId, refreshLeaseOwner: owner },
      data: { refreshLeaseOwner: null, refreshLeaseUntil: null },
    });
  }

  /**
   * Compare-and-set: stores the refreshed tokens only if the credential is
   * still at `expectedVersion`. Tokens, expiry, scopes and the failure count
   * change in one transaction, before anyone is handed the new access token;
   * a connection that had been failing gets its recovery event in the same
   * transaction. Returns the stored set, or undefined when another writer
   * got there first. `lostScopes`: granted before, not now (the refresh
   * narrowed the grant): its `connection.scope_drift` event is written in
   * the same transaction.
   */
  async replaceTokens(
    connection: Connection,
    expectedVersion: number,
    tokens: Tokens,
    at: Date,
    lostScopes: readonly string[] = [],
  ): Promise<TokenSet | undefined> {
    const sealed = this.sealer.seal(tokens, connection);
    let written: boolean;
    try {
      written = await this.writeTokens(connection, expectedVersion, tokens, sealed, at, lostScopes);
    } finally {
      await this.cache?.invalidate(connection.id);
    }
    return written ? (tokens as TokenSet) : undefined;
  }

  private writeTokens(
    connection: Connection,
    expectedVersion: number,
    tokens: Tokens,
    sealed: ReturnType<CredentialSealer['seal']>,
    at: Date,
    lostScopes: readonly string[],
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.credential.updateMany({
        where: { connectionId: connection.id, version: expectedVersion },
        data: {
          keyId: sealed.keyId,
          ciphertext: sealed.ciphertext,
          version: expectedVersion + 1,
          refreshLeaseOwner: null,
          refreshLeaseUntil: null,
        },
      });
      if (count !== 1) return false;
      const before = await tx.connection.findUniqueOrThrow({
        where: { id: connection.id },
        select: { refreshFailures: true },
      });
      await tx.connection.update({
        where: { id: connection.id },
        data: {
          expiresAt: tokens.expiresAt,
          scopes: tokens.scopes,
          lastRefreshedAt: at,
          refreshFailures: 0,
          lastRefreshError: null,
          refreshRetryAt: null,
        },
      });
      if (lostScopes.length) {
        await tx.event.create({
          data: connectionEvent('connection.scope_drift', connection, {
            lostScopes,
            scopes: tokens.scopes,
          }),
        });
      }
      if (before.refreshFailures > 0) {
        await tx.event.create({
          data: connectionEvent('connection.recovered', connection, {
            afterFailures: before.refreshFailures,
          }),
        });
      }
      return true;
    });
  }

  /**
   * A failed refresh that did not kill the grant: counted, the status
   * untouched; `retryAt` holds off further attempts (a failure that
   * retrying at once would repeat).
   */
  async recordRefreshFailure(
    connectionId: string,
    errorCode: string,
    retryAt?: Date,
  ): Promise<void> {
    await this.prisma.connection.updateMany({
      where: { id: connectionId },
      data: {
        refreshFailures: { increment: 1 },
        lastRefreshError: errorCode,
        ...(retryAt ? { refreshRetryAt: retryAt } : {}),
      },
    });
    await this.cache?.invalidate(connectionId);
  }
}
