import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/config/config-error.js';
import type { Tokens } from '../../src/connections/connection.js';
import {
  ConnectionsRepository,
  type NewGrant,
} from '../../src/connections/connections.repository.js';
import { CredentialKeysCheck } from '../../src/key-rotation/credential-keys.check.js';
import { CredentialSealer } from '../../src/crypto/credential-sealer.js';
import { PendingGrantsRepository } from '../../src/parked-grants/pending-grants.repository.js';
import { RevocationsRepository } from '../../src/revocation/revocations.repository.js';
import { CredentialsRepository } from '../../src/connections/credentials.repository.js';
import type { PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { otherCipher, runCipher, testPrisma } from '../support/infra.js';

const tokens = (suffix: string, overrides: Partial<Tokens> = {}): Tokens => ({
  accessToken: `at-${suffix}`,
  refreshToken: `rt-${suffix}`,
  tokenType: 'Bearer',
  expiresAt: new Date(Date.now() + 3600_000),
  scopes: ['contacts.read'],
  extras: {},
  ...overrides,
});

const grant = (tenantId: string, accountId: string, t: Tokens): NewGrant => ({
  tenantId,
  integrationKey: 'crm',
  provider: 'oauth2',
  account: { id: accountId, email: `${accountId}@example.test` },
  tokens: t,
  status: 'active',
  at: new Date(),
});

describe('ConnectionsRepository on PostgreSQL', () => {
  let prisma: PrismaService;
  let repository: ConnectionsRepository;
  let credentials: CredentialsRepository;
  const tenant = `repo-${randomUUID()}`;

  beforeAll(async () => {
    prisma = testPrisma();
    const sealer = new CredentialSealer(await runCipher());
    repository = new ConnectionsRepository(prisma, sealer);
    credentials = new CredentialsRepository(prisma, sealer);
  });

  afterAll(async () => {
    await prisma.$disconnect();
  });

  it('stores a grant and reads back the same tokens', async () => {
    const { connection, created } = await repository.saveGrant(
      grant(tenant, 'acct-1', tokens('one')),
    );
    expect(created).toBe(true);
    const found = await repository.findWithTokens(connection.id);
    expect(found?.tokens).toMatchObject({ accessToken: 'at-one', refreshToken: 'rt-one' });
    expect(found?.version).toBe(1);
  });

  it('updates the same tenant + integration + account in place', async () => {
    const first = await repository.saveGrant(grant(tenant, 'acct-2', tokens('a')));
    const sealedBefore = await prisma.credential.findUnique({
      where: { connectionId: first.connection.id },
    });
    const second = await repository.saveGrant({
      ...grant(tenant, 'acct-2', tokens('b')),
      revokeSuperseded: true,
    });
    expect(second.created).toBe(false);
    expect(second.connection.id).toBe(first.connection.id);
    const found = await repository.findWithTokens(first.connection.id);
    expect(found?.tokens?.accessToken).toBe('at-b');
    expect(found?.version).toBe(2);
    // The replaced grant waits, still sealed as it was, in the pending revocations.
    const pending = await prisma.pendingRevocation.findUnique({
      where: { id: second.supersededRevocationId! },
    });
    expect(pending).toMatchObject({
      connectionId: first.connection.id,
      keyId: sealedBefore!.keyId,
    });
    expect(Buffer.from(pending!.ciphertext).equals(Buffer.from(sealedBefore!.ciphertext))).toBe(
      true,
    );
  });

  it('a reconnect queues no revocation for the same refresh token, or when told not to', async () => {
    await repository.saveGrant(grant(tenant, 'acct-same', tokens('s')));
    const same = await repository.saveGrant({
      ...grant(tenant, 'acct-same', tokens('s')),
      revokeSuperseded: true,
    });
    expect(same.supersededRevocationId).toBeUndefined();
    const kept = await repository.saveGrant(grant(tenant, 'acct-same', tokens('t')));
    expect(kept.supersededRevocationId).toBeUndefined();
    expect(
      await prisma.pendingRevocation.count({ where: { connectionId: same.connection.id } }),
    ).toBe(0);
  });

  it('two concurrent first grants for one account end as one connection', async () => {
    const results = await Promise.all([
      repository.saveGrant(grant(tenant, 'acct-race', tokens('x'))),
      repository.saveGrant(grant(tenant, 'acct-race', tokens('y'))),
    ]);
    expect(results[0].connection.id).toBe(results[1].connection.id);
    expect(
      await prisma.connection.count({ where: { tenantId: tenant, accountId: 'acct-race' } }),
    ).toBe(1);
  });

  it('compare-and-set: a writer holding a stale version changes nothing', async () => {
    const { connection } = await repository.saveGrant(grant(tenant, 'acct-3', tokens('v1')));
    const winner = await credentials.replaceTokens(connection, 1, tokens('winner'), new Date());
    expect(winner?.accessToken).toBe('at-winner');
    const loser = await credentials.replaceTokens(connection, 1, tokens('loser'), new Date());
    expect(loser).toBeUndefined();
    const stored = await repository.findWithTokens(connection.id);
    expect(stored?.tokens?.accessToken).toBe('at-winner');
    expect(stored?.version).toBe(2);
  });

  it('a ciphertext copied onto another connection does not open', async () => {
    const a = await repository.saveGrant(grant(tenant, 'acct-4', tokens('a4')));
    const b = await repository.saveGrant(grant(tenant, 'acct-5', tokens('b5')));
    const source = await prisma.credential.findUniqueOrThrow({
      where: { connectionId: a.connection.id },
    });
    await prisma.credential.update({
      where: { connectionId: b.connection.id },
      data: { ciphertext: source.ciphertext },
    });
    await expect(repository.findWithTokens(b.connection.id)).rejects.toMatchObject({
      code: 'credentials_unreadable',
    });
    await prisma.connection.delete({ where: { id: b.connection.id } });
  });

  it('revoke deletes the credentials and marks the connection revoked', async () => {
    const { connection } = await repository.saveGrant(grant(tenant, 'acct-6', tokens('r')));
    const revocationId = await repository.revoke(connection, { providerRevocation: true });
    expect(revocationId).toBeDefined();
    const found = await repository.findWithTokens(connection.id);
    expect(found?.connection.status).toBe('revoked');
    expect(found?.tokens).toBeUndefined();
  });

  it('the start-up check refuses keys that cannot read what is stored', async () => {
    const cipher = await runCipher();
    await expect(
      new CredentialKeysCheck(
        repository,
        new RevocationsRepository(prisma, new CredentialSealer(cipher)),
        new PendingGrantsRepository(prisma, new CredentialSealer(cipher)),
        cipher,
      ).onModuleInit(),
    ).resolves.toBeUndefined();
    const missing = await otherCipher('not-the-run-key');
    await expect(
      new CredentialKeysCheck(
        new ConnectionsRepository(prisma, new CredentialSealer(missing)),
        new RevocationsRepository(prisma, new CredentialSealer(missing)),
        new PendingGrantsRepository(prisma, new CredentialSealer(missing)),
        missing,
      ).onModuleInit(),
    ).rejects.toThrow(
      new ConfigError(
        `ENCRYPTION_KEYS: stored credentials use key "${cipher.activeKeyId}", which is not configured`,
      ),
    );
    const wrong = await otherCipher(cipher.activeKeyId);
    await expect(
      new CredentialKeysCheck(
        new ConnectionsRepository(prisma, new CredentialSealer(wrong)),
        new RevocationsRepository(prisma, new CredentialSealer(wrong)),
        new PendingGrantsRepository(prisma, new CredentialSealer(wrong)),
        wrong,
      ).onModuleInit(),
    ).rejects.toThrow(/does not decrypt the stored credentials/);
  });
});
