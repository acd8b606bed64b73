import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { Connection, Tokens, TokenSet } from '../connections/connection.js';
import { CredentialSealer } from '../crypto/credential-sealer.js';

/** A validated grant waiting for the app's backend to confirm its end user (requireFinalize). */
export interface PendingGrant {
  /** The connect session's id. */
  id: string;
  tenantId: string;
  integrationKey: string;
  endUserId: string;
  account: Connection['account'];
  finalizeTokenHash: string;
  expiresAt: Date;
}

/**
 * Grants parked between the callback and finalize. Sealed like credentials
 * (bound to the tenant and the session id), so a parked grant is as safe at
 * rest as a stored one. Taking one is a delete: a grant is finalized once.
 */
@Injectable()
export class PendingGrantsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sealer: CredentialSealer,
  ) {}

  async park(grant: PendingGrant & { tokens: Tokens }): Promise<void> {
    const sealed = this.sealer.seal(grant.tokens, { id: grant.id, tenantId: grant.tenantId });
    await this.prisma.pendingGrant.create({
      data: {
        id: grant.id,
        tenantId: grant.tenantId,
        integrationKey: grant.integrationKey,
        endUserId: grant.endUserId,
        account: grant.account,
        keyId: sealed.keyId,
        ciphertext: sealed.ciphertext,
        finalizeTokenHash: grant.finalizeTokenHash,
        expiresAt: grant.expiresAt,
      },
    });
  }

  async find(id: string): Promise<PendingGrant | undefined> {
    const row = await this.prisma.pendingGrant.findUnique({ where: { id } });
    return row ? toPendingGrant(row) : undefined;
  }

  /**
   * Removes the grant and returns its tokens; undefined when another caller
   * took it first. If the tokens cannot be decrypted the delete is rolled
   * back: the grant stays, to be revoked once its key is back.
   */
  async take(id: string): Promise<(PendingGrant & { tokens: TokenSet }) | undefined> {
    return this.prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<PendingGrantRow[]>`
        DELETE FROM pending_grants WHERE id = ${id}::uuid
        RETURNING id, tenant_id AS "tenantId", integration_key AS "integrationKey",
                  end_user_id AS "endUserId", account, key_id AS "keyId", ciphertext,
                  finalize_token_hash AS "finalizeTokenHash", expires_at AS "expiresAt"`;
      if (!row) return undefined;
      return {
        ...toPendingGrant(row),
        tokens: this.sealer.open(row, { id: row.id, tenantId: row.tenantId }),
      };
    });
  }

  /** Puts a taken grant back (its connection could not be written), so finalize can be retried. */
  async restore(grant: PendingGrant & { tokens: TokenSet }): Promise<void> {
    await this.park(grant);
  }

  /**
   * Drops the grant and moves its ciphertext (same key, same binding) to the
   * pending revocations, in one transaction: a refused or abandoned grant is
   * revoked at the provider, with retries. Returns the revocation's id.
   */
  async discard(
    id: string,
    revocable: (integrationKey: string) => boolean,
  ): Promise<{ revocationId?: string } | undefined> {
    return this.prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<PendingGrantRow[]>`
        DELETE FROM pending_grants WHERE id = ${id}::uuid
        RETURNING id, tenant_id AS "tenantId", integration_key AS "integrationKey",
                  key_id AS "keyId", ciphertext`;
      if (!row) return undefined;
      // Where revoking would end the user's other grants too (Google), the grant is only dropped.
      if (!revocable(row.integrationKey)) return {};
      const revocationId = randomUUID();
      await tx.pendingRevocation.create({
        data: {
          id: revocationId,
          connectionId: row.id,
          tenantId: row.tenantId,
          integrationKey: row.integrationKey,
          keyId: row.keyId,
          ciphertext: row.ciphertext,
        },
      });
      return { revocationId };
    });
  }

  /** The key ids parked grants are sealed under (the start-up key check). */
  async keyIds(): Promise<string[]> {
    const rows = await this.prisma.pendingGrant.findMany({
      distinct: ['keyId'],
      select: { keyId: true },
    });
    return rows.map((row) => row.keyId);
  }

  /** Ids of grants nobody finalized in time. */
  async expiredIds(now: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.pendingGrant.findMany({
      where: { expiresAt: { lte: now } },
      select: { id: true },
      orderBy: { expiresAt: 'asc' },
      take: limit,
    });
    return rows.map((row) => row.id);
  }
}

interface PendingGrantRow {
  id: string;
  tenantId: string;
  integrationKey: string;
  endUserId: string;
  account: unknown;
  keyId: string;
  ciphertext: Uint8Array<ArrayBuffer>;
  finalizeTokenHash: string;
  expiresAt: Date;
}

function toPendingGrant(row: PendingGrantRow): PendingGrant {
  return {
    id: row.id,
    tenantId: row.tenantId,
    integrationKey: row.integrationKey,
    endUserId: row.endUserId,
    account: row.account as Connection['account'],
    finalizeTokenHash: row.finalizeTokenHash,
    expiresAt: row.expiresAt,
  };
}
