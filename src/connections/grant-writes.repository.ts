import { randomUUID } from 'node:crypto';
import type { CredentialSealer } from '../crypto/credential-sealer.js';
import { Prisma } from '../infra/prisma/generated/client.js';
import type { PrismaService } from '../infra/prisma/prisma.service.js';
import type { Connection, ConnectionStatus, Tokens, TokenSet } from './connection.js';
import { connectionEvent } from './connection-events.js';
import { toConnection } from './connection.mapper.js';

/*
 * The writes that store a grant (connect, reconnect) and file a replaced or
 * disconnected credential for revocation, for ConnectionsRepository, which
 * tells the cache after they commit.
 */

export interface NewGrant {
  tenantId: string;
  integrationKey: string;
  provider: string;
  account: { id: string; email?: string; name?: string };
  endUserId?: string;
  tokens: Tokens;
  status: ConnectionStatus;
  at: Date;
  /** Whether a grant this one replaces (a reconnect) is to be revoked at the provider. */
  revokeSuperseded?: boolean;
}

export interface SavedGrant {
  connection: Connection;
  created: boolean;
  /**
   * A reconnect replaced a grant that is to be revoked: the pending
   * revocation holding it (still sealed), for the revocation service.
   */
  supersededRevocationId?: string;
}

/**
 * Stores a validated grant (see ConnectionsRepository.saveGrant).
 */
export async function writeGrant(
  prisma: PrismaService,
  sealer: CredentialSealer,
  grant: NewGrant,
): Promise<SavedGrant> {
  try {
    return await writeGrantOnce(prisma, sealer, grant);
  } catch (error) {
    // Two callbacks for a brand-new account raced on the unique key; the
    // loser now finds the winner's row and updates it.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      return writeGrantOnce(prisma, sealer, grant);
    }
    throw error;
  }
}

function writeGrantOnce(
  prisma: PrismaService,
  sealer: CredentialSealer,
  grant: NewGrant,
): Promise<SavedGrant> {
  return prisma.$transaction(async (tx) => {
    const identity = {
      tenantId: grant.tenantId,
      integrationKey: grant.integrationKey,
      accountId: grant.account.id,
    };
    // A refresh may be writing this connection: lock its credential, then
    // its row (the order the refresh writes them in), and read them only
    // then, so the reconnect builds on the version that refresh committed
    // (its compare-and-set then fails) and revokes the grant really
    // replaced, not one a refresh had already rotated away.
    const found = await tx.connection.findUnique({
      where: { tenantId_integrationKey_accountId: identity },
      select: { id: true },
    });
    if (found) {
      await tx.$queryRaw`SELECT 1 FROM credentials WHERE connection_id = ${found.id}::uuid FOR UPDATE`;
      await tx.$queryRaw`SELECT 1 FROM connections WHERE id = ${found.id}::uuid FOR UPDATE`;
    }
    const existing = found
      ? await tx.connection.findUnique({
          where: { id: found.id },
          include: { credential: true },
        })
      : null;
    const id = existing?.id ?? randomUUID();
    const sealed = sealer.seal(grant.tokens, { id, tenantId: grant.tenantId });
    const fields = {
      provider: grant.provider,
      status: grant.status,
      accountEmail: grant.account.email ?? null,
      accountName: grant.account.name ?? null,
      endUserId: grant.endUserId ?? existing?.endUserId ?? null,
      scopes: grant.tokens.scopes,
      expiresAt: grant.tokens.expiresAt,
      lastRefreshedAt: grant.at,
      refreshFailures: 0,
      lastRefreshError: null,
      refreshRetryAt: null,
    };
    const credential = {
      keyId: sealed.keyId,
      ciphertext: sealed.ciphertext,
      refreshLeaseOwner: null,
      refreshLeaseUntil: null,
    };
    if (!existing) {
      const row = await tx.connection.create({
        data: {
          id,
          ...identity,
          ...fields,
          credential: { create: { ...credential, version: 1 } },
        },
      });
      const connection = toConnection(row);
      await tx.event.create({ data: connectionEvent('connection.created', connection) });
      return { connection, created: true };
    }
    const supersededRevocationId =
      grant.revokeSuperseded && existing.credential
        ? await queueSupersededRevocation(sealer, tx, existing, existing.credential, grant.tokens)
        : undefined;
    const version = (existing.credential?.version ?? 0) + 1;
    const row = await tx.connection.update({
      where: { id },
      data: {
        ...fields,
        credential: {
          upsert: { create: { ...credential, version }, update: { ...credential, version } },
        },
      },
    });
    const connection = toConnection(row);
    if (existing.status !== 'active' && existing.status !== 'pending') {
      await tx.event.create({
        data: connectionEvent('connection.recovered', connection, { reason: 'reconnected' }),
      });
    }
    return { connection, created: false, supersededRevocationId };
  });
}

/**
 * The replaced grant's ciphertext moves, still sealed (same key, same
 * binding), to the pending revocations in the reconnect's transaction, as
 * on disconnect: its tokens never leave this boundary, and the revocation
 * survives a provider that is down. Not when the provider handed back the
 * same refresh token (one grant, nothing to end) or there is none.
 */
async function queueSupersededRevocation(
  sealer: CredentialSealer,
  tx: Prisma.TransactionClient,
  existing: Parameters<typeof toConnection>[0],
  credential: { keyId: string; ciphertext: Uint8Array<ArrayBuffer> },
  fresh: Tokens,
): Promise<string | undefined> {
  let previous: TokenSet;
  try {
    previous = sealer.open(credential, toConnection(existing));
  } catch {
    // Unreadable under the configured keys (the start-up check reports those): nothing to revoke with.
    return undefined;
  }
  if (!previous.refreshToken || previous.refreshToken === fresh.refreshToken) return undefined;
  return fileForRevocation(tx, existing, credential);
}

/**
 * Moves a credential's ciphertext, still sealed (same key, same binding), to
 * the pending revocations; returns the row's id for the revocation service.
 */
export async function fileForRevocation(
  tx: Prisma.TransactionClient,
  owner: { id: string; tenantId: string; integrationKey: string },
  credential: { keyId: string; ciphertext: Uint8Array<ArrayBuffer> },
): Promise<string> {
  const id = randomUUID();
  await tx.pendingRevocation.create({
    data: {
      id,
      connectionId: owner.id,
      tenantId: owner.tenantId,
      integrationKey: owner.integrationKey,
      keyId: credential.keyId,
      ciphertext: credential.ciphertext,
    },
  });
  return id;
}
