import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CredentialSealer } from '../../src/crypto/credential-sealer.js';
import { KeyRotationRepository } from '../../src/key-rotation/key-rotation.repository.js';
import { KeyRotationSweep } from '../../src/key-rotation/key-rotation.sweep.js';
import { RevocationsRepository } from '../../src/revocation/revocations.repository.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { spawnBrokerProcess } from '../support/broker-process.js';
import { createScratchDatabase, withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const OLD = key('old');
const NEW = key('new');

async function keyIds(sql: string, url: string): Promise<string[]> {
  return withDb(async (client) => (await client.query(sql)).rows.map((row) => row.key_id), url);
}

/**
 * Rotation as an operator does it: put the new key first (the old one
 * stays, to read), let the worker re-encrypt, then drop the old key.
 * On a database of its own: re-encryption moves every row it can see.
 */
describe('encryption key rotation', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let s: Scenario;
  let serviceKey: string;
  const extra: TestBroker[] = [];
  const connections: string[] = [];
  const accessTokens = new Map<string, string>();
  let revokedId: string;

  const boot = (encryptionKeys: string) =>
    startBroker({
      integrationsYaml: s.brokerSetup.integrationsYaml,
      env: { ...s.brokerSetup.env, ENCRYPTION_KEYS: encryptionKeys },
      clock: s.clock,
    });
  /** A real process: a refused start must exit 1 and say why. */
  const refusedStart = async (encryptionKeys: string) => {
    const broker = spawnBrokerProcess(s.brokerSetup, {
      ENCRYPTION_KEYS: encryptionKeys,
      ROLE: 'api',
    });
    const timer = setTimeout(() => broker.child.kill('SIGKILL'), 20_000);
    const code = await broker.exited;
    clearTimeout(timer);
    return { code, output: broker.logs.text() };
  };
  const token = async (broker: TestBroker, id: string) => {
    const response = await fetch(`${broker.url}/v1/connections/${id}/token`, {
      headers: { authorization: `Bearer ${serviceKey}` },
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase('rotation');
    s = await startScenario({ env: { DATABASE_URL: scratch.url, ENCRYPTION_KEYS: OLD } });
    serviceKey = await s.broker.createKey();
    for (let i = 0; i < 5; i += 1) {
      const id = await s.connectOk(serviceKey, { tenantId: `tenant-rotation-${i}` });
      connections.push(id);
      accessTokens.set(id, (await token(s.broker, id)).body.accessToken);
    }
    // A disconnect while the provider is down leaves its tokens sealed in pending_revocations.
    revokedId = await s.connectOk(serviceKey, { tenantId: 'tenant-rotation-revoked' });
    await s.sandbox.auth.stop();
    const deleted = await s.api(`/v1/connections/${revokedId}`, {
      method: 'DELETE',
      key: serviceKey,
    });
    expect(deleted.status).toBe(204);
    await Promise.all(s.brokers.map((b) => b.stop()));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(extra.map((b) => b.stop()));
    await s?.sandbox.stop();
    await scratch?.drop();
  });

  it('the old key removed before re-encryption: the start is refused, naming the key', async () => {
    const { code, output } = await refusedStart(NEW);
    expect(code).toBe(1);
    expect(output).toMatch(
      /ENCRYPTION_KEYS: stored credentials use key "old", which is not configured/,
    );
  }, 30_000);

  it('new key first: the worker re-encrypts credentials and pending revocations, tokens unchanged, versions untouched', async () => {
    const versions = await withDb(
      async (client) =>
        (await client.query('SELECT connection_id, version FROM credentials ORDER BY 1')).rows,
      scratch.url,
    );
    const broker = await boot(`${NEW},${OLD}`);
    extra.push(broker);
    // Still readable under the old key before the job runs.
    expect((await token(broker, connections[0]!)).body.accessToken).toBe(
      accessTokens.get(connections[0]!),
    );

    // A write that lands between the job's read and its compare-and-set (a
    // refresh elsewhere moves the version) wins: the job's write changes nothing.
    const repository = broker.app.get(KeyRotationRepository);
    const racing = connections[4]!;
    const [stale] = await repository.staleCredentials('new', 1, connections.slice(0, 4));
    expect(stale?.id).toBe(racing);
    await withDb(
      (client) =>
        client.query('UPDATE credentials SET version = version + 1 WHERE connection_id = $1', [
          racing,
        ]),
      scratch.url,
    );
    versions.find((row) => row.connection_id === racing).version += 1;
    const resealed = broker.app.get(CredentialSealer).reseal(stale!, stale!.owner);
    expect(await repository.replaceCredential(stale!, resealed)).toBe(false);
    expect(
      await keyIds(`SELECT key_id FROM credentials WHERE connection_id = '${racing}'`, scratch.url),
    ).toEqual(['old']);

    expect(await broker.app.get(KeyRotationSweep).sweep()).toBe(true);
    await eventually(
      async () => {
        expect(await keyIds('SELECT key_id FROM credentials', scratch.url)).toEqual(
          connections.map(() => 'new'),
        );
        expect(await keyIds('SELECT key_id FROM pending_revocations', scratch.url)).toEqual([
          'new',
        ]);
      },
      20_000,
      100,
    );
    expect(
      await withDb(
        async (client) =>
          (await client.query('SELECT connection_id, version FROM credentials ORDER BY 1')).rows,
        scratch.url,
      ),
    ).toEqual(versions);
    for (const id of connections) {
      expect((await token(broker, id)).body.accessToken).toBe(accessTokens.get(id));
    }
    const [pending] = await withDb(
      async (client) => (await client.query('SELECT id FROM pending_revocations')).rows,
      scratch.url,
    );
    const revocation = await broker.app.get(RevocationsRepository).find(pending.id);
    expect(revocation?.connectionId).toBe(revokedId);
    expect(revocation?.tokens.refreshToken).toBeDefined();
    // Nothing left to do: the next sweep queues nothing.
    expect(await broker.app.get(KeyRotationSweep).sweep()).toBe(false);
    await broker.stop();
    extra.pop();
  }, 60_000);

  it('the old key dropped: the broker starts, serves and refreshes tokens', async () => {
    await s.sandbox.auth.restart();
    const broker = await boot(NEW);
    extra.push(broker);
    for (const id of connections) {
      expect((await token(broker, id)).body.accessToken).toBe(accessTokens.get(id));
    }
    const refreshed = await fetch(`${broker.url}/v1/connections/${connections[0]}/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceKey}` },
    });
    expect(refreshed.status).toBe(200);
    const fresh = await token(broker, connections[0]!);
    expect(fresh.body.accessToken).not.toBe(accessTokens.get(connections[0]!));
    expect(await keyIds('SELECT key_id FROM credentials', scratch.url)).toEqual(
      connections.map(() => 'new'),
    );
  }, 60_000);

  it('a broker still holding only the old key refuses to start', async () => {
    const { code, output } = await refusedStart(OLD);
    expect(code).toBe(1);
    expect(output).toMatch(
      /ENCRYPTION_KEYS: stored credentials use key "new", which is not configured/,
    );
  }, 30_000);
});
