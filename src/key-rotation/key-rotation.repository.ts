import { Injectable } from '@nestjs/common';
import type { Sealed } from '../crypto/token-cipher.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { CredentialOwner } from '../crypto/credential-sealer.js';

/** A ciphertext sealed under a key other than the active one. */
export interface StaleSealed {
  /** The credential's connection id, or the pending revocation's id. */
  id: string;
  owner: CredentialOwner;
  keyId: string;
  ciphertext: Uint8Array;
  /** Credentials only: the version the new ciphertext may replace. */
  version?: number;
}

/**
 * The stored ciphertexts (credentials, pending revocations, grants waiting
 * for finalize) that key rotation moves to the active key. "Not the active
 * key" is written as two ranges so PostgreSQL answers it from the key_id
 * index: once everything is rotated, asking costs a few empty index probes.
 */
@Injectable()
export class KeyRotationRepository {
  constructor(private readonly prisma: PrismaService) {}

  async anyStale(activeKeyId: string): Promise<boolean> {
    const where = notUnder(activeKeyId);
    const [credential, revocation, grant] = await Promise.all([
      this.prisma.credential.findFirst({ where, select: { connectionId: true } }),
      this.prisma.pendingRevocation.findFirst({ where, select: { id: true } }),
      this.prisma.pendingGrant.findFirst({ where, select: { id: true } }),
    ]);
    return Boolean(credential ?? revocation ?? grant);
  }

  async staleCredentials(
    activeKeyId: string,
    limit: number,
    skip: readonly string[],
  ): Promise<StaleSealed[]> {
    const rows = await this.prisma.credential.findMany({
      where: { ...notUnder(activeKeyId), connectionId: { notIn: [...skip] } },
      select: {
        connectionId: true,
        keyId: true,
        ciphertext: true,
        version: true,
        connection: { select: { tenantId: true } },
      },
      orderBy: { connectionId: 'asc' },
      take: limit,
    });
    return rows.map((row) => ({
      id: row.connectionId,
      owner: { id: row.connectionId, tenantId: row.connection.tenantId },
      keyId: row.keyId,
      ciphertext: row.ciphertext,
      version: row.version,
    }));
  }

  /**
   * Replaces the ciphertext only if the row is still what was read (same
   * version and key). The version is not bumped: the tokens are the same,
   * and a refresh holding the fence on this version must still be able to
   * write its result. A refresh that got there first wins; its row is
   * already under the active key.
   */
  async replaceCredential(row: StaleSealed, sealed: Sealed): Promise<boolean> {
    const { count } = await this.prisma.credential.updateMany({
      where: { connectionId: row.id, version: row.version, keyId: row.keyId },
      data: { keyId: sealed.keyId, ciphertext: sealed.ciphertext },
    });
    return count === 1;
  }

  async staleRevocations(
    activeKeyId: string,
    limit: number,
    skip: readonly string[],
  ): Promise<StaleSealed[]> {
    const rows = await this.prisma.pendingRevocation.findMany({
      where: { ...notUnder(activeKeyId), id: { notIn: [...skip] } },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((row) => ({
      id: row.id,
      owner: { id: row.connectionId, tenantId: row.tenantId },
      keyId: row.keyId,
      ciphertext: row.ciphertext,
    }));
  }

  async replaceRevocation(row: StaleSealed, sealed: Sealed): Promise<boolean> {
    const { count } = await this.prisma.pendingRevocation.updateMany({
      where: { id: row.id, keyId: row.keyId },
      data: { keyId: sealed.keyId, ciphertext: sealed.ciphertext },
    });
    return count === 1;
  }

  /** Grants waiting for finalize: minutes at most, but rotated too, so nothing is left behind. */
  async stalePendingGrants(
    activeKeyId: string,
    limit: number,
    skip: readonly string[],
  ): Promise<StaleSealed[]> {
    const rows = await this.prisma.pendingGrant.findMany({
      where: { ...notUnder(activeKeyId), id: { notIn: [...skip] } },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((row) => ({
      id: row.id,
      owner: { id: row.id, tenantId: row.tenantId },
      keyId: row.keyId,
      ciphertext: row.ciphertext,
    }));
  }

  async replacePendingGrant(row: StaleSealed, sealed: Sealed): Promise<boolean> {
    const { count } = await this.prisma.pendingGrant.updateMany({
      where: { id: row.id, keyId: row.keyId },
      data: { keyId: sealed.keyId, ciphertext: sealed.ciphertext },
    });
    return count === 1;
  }
}

function notUnder(activeKeyId: string) {
  return { OR: [{ keyId: { lt: activeKeyId } }, { keyId: { gt: activeKeyId } }] };
}
