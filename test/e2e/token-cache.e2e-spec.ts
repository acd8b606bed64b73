import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { parseEncryptionKeys } from '../../src/config/encryption-keys.js';
import { ConnectionCache } from '../../src/connections/connection-cache.js';
import { ConnectionStore } from '../../src/connections/connection-store.js';
import { CredentialSealer } from '../../src/crypto/credential-sealer.js';
import { TokenCipher } from '../../src/crypto/token-cipher.js';
import { KeyRotationService } from '../../src/key-rotation/key-rotation.service.js';
import { spawnBrokerProcess, waitForLog } from '../support/broker-process.js';
import { freePort, type TestBroker } from '../support/broker.js';
import { withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import {
  type PrivateRedis,
  removePrivateRedis,
  startPrivateRedis,
} from '../support/private-redis.js';
import { type ApiResponse, type Scenario, startScenario } from '../support/scenario.js';
import { testEnv } from '../support/test-env.js';

/** The documented propagation bound (README): a write on one replica is seen by every other within it. */
const PROPAGATION_BOUND_MS = 100;
/** A second key in the ring, that nothing is sealed under until the test puts a credential there. */
const RETIRING_KEY = `cacheold:${randomBytes(32).toString('base64')}`;

/**
 * Two replicas of one deployment (same database, same Redis prefix), each
 * with its token cache: whatever is written on A, B stops serving what it
 * cached within the propagation bound; with the invalidation channel down,
 * B reads PostgreSQL on every request.
 */
describe('the token cache across replicas', () => {
  let redis: PrivateRedis;
  let s: Scenario;
  let key: string;
  let a: TestBroker;
  let b: TestBroker;
  const delays: Record<string, number> = {};

  beforeAll(async () => {
    redis = await startPrivateRedis();
    s = await startScenario({
      brokers: 2,
      env: {
        REDIS_URL: redis.url,
        ENCRYPTION_KEYS: `${testEnv().encryptionKeys},${RETIRING_KEY}`,
      },
    });
    [a, b] = s.brokers as [TestBroker, TestBroker];
    key = await a.createKey();
    await eventually(async () => {
      for (const broker of s.brokers) expect(broker.app.get(ConnectionCache).live).toBe(true);
    }, 10_000);
  }, 60_000);

  afterAll(async () => {
    process.stdout.write(`token cache propagation (ms): ${JSON.stringify(delays)}\n`);
    await s?.stop();
    await removePrivateRedis(redis);
  });

  const read = (replica: TestBroker, id: string) =>
    s.api(`/v1/connections/${id}/token`, { key, broker: s.brokers.indexOf(replica) });
  const cachedOnB = (id: string) => b.app.get(ConnectionCache).peek(id);
  const sql = (text: string, values: unknown[]) => withDb((client) => client.query(text, values));

  /** Reads on B until `done`; how long after the write's acknowledgement that took. */
  async function seenOnB(
    label: string,
    id: string,
    acknowledged: number,
    done: (response: ApiResponse) => boolean,
  ): Promise<number> {
    for (;;) {
      const response = await read(b, id);
      const delay = Date.now() - acknowledged;
      if (done(response)) {
        delays[label] = delay;
        return delay;
      }
      if (delay > 5_000) throw new Error(`${label}: replica B still serves the old answer`);
    }
  }

  it('serves a token read from the cache: a change made behind the broker (SQL) is not seen', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-cache-hit' });
    expect((await read(b, id)).status).toBe(200);
    expect(cachedOnB(id)?.connection.status).toBe('active');
    await sql(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`, [id]);
    // Nothing announced the change: B answers from its cache.
    expect((await read(b, id)).status).toBe(200);
    await sql(`UPDATE connections SET status = 'active' WHERE id = $1`, [id]);
  }, 30_000);

  it('needs_reauth, reconnect, re-seal and disconnect on A: B follows within the bound', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-cache-lifecycle' });
    const first = await read(b, id);
    expect(first.status).toBe(200);
    expect(cachedOnB(id)).toBeDefined();

    // needs_reauth (what a dead grant does during a refresh on A).
    const store = a.app.get(ConnectionStore);
    expect(await store.markNeedsReauth((await store.findById(id))!, 'grant_rejected')).toBe(true);
    let acknowledged = Date.now();
    expect(
      await seenOnB(
        'needs_reauth',
        id,
        acknowledged,
        (r) => r.status === 409 && r.body.error.code === 'needs_reauth',
      ),
    ).toBeLessThan(PROPAGATION_BOUND_MS);
    // B caches the needs_reauth row now.
    expect((await read(b, id)).status).toBe(409);

    // Reconnect through A: the same account, new tokens.
    expect(await s.connectOk(key, { tenantId: 'tenant-cache-lifecycle' })).toBe(id);
    acknowledged = Date.now();
    expect(
      await seenOnB(
        'reconnect',
        id,
        acknowledged,
        (r) => r.status === 200 && r.body.accessToken !== first.body.accessToken,
      ),
    ).toBeLessThan(PROPAGATION_BOUND_MS);
    const reconnected = (await read(b, id)).body.accessToken as string;

    // Key rotation: the credential sealed under the retiring key (as if stored
    // before the rotation began), cached so on B, then re-sealed by A's rotation.
    const retiring = new CredentialSealer(
      await TokenCipher.create(parseEncryptionKeys(RETIRING_KEY)),
    );
    const current = (await a.app.get(ConnectionStore).findWithTokens(id))!;
    const old = retiring.seal(current.tokens!, current.connection);
    await sql('UPDATE credentials SET key_id = $2, ciphertext = $3 WHERE connection_id = $1', [
      id,
      old.keyId,
      Buffer.from(old.ciphertext),
    ]);
    await a.app.get(ConnectionStore).invalidate(id);
    await eventually(async () => {
      expect((await read(b, id)).body.accessToken).toBe(reconnected);
      expect(cachedOnB(id)?.credential?.keyId).toBe('cacheold');
    }, 2_000);
    const rotation = await a.app.get(KeyRotationService).rotateAll();
    expect(rotation.reencrypted).toBeGreaterThanOrEqual(1);
    acknowledged = Date.now();
    for (;;) {
      const held = cachedOnB(id)?.credential?.keyId;
      if (held !== 'cacheold') break;
      if (Date.now() - acknowledged > 5_000) throw new Error('B still holds the old ciphertext');
      await new Promise((resolve) => setImmediate(resolve));
    }
    delays['re-seal'] = Date.now() - acknowledged;
    expect(delays['re-seal']).toBeLessThan(PROPAGATION_BOUND_MS);
    const afterRotation = await read(b, id);
    expect(afterRotation.body.accessToken).toBe(reconnected);
    expect(cachedOnB(id)?.credential?.keyId).not.toBe('cacheold');

    // Disconnect on A.
    expect((await s.api(`/v1/connections/${id}`, { method: 'DELETE', key })).status).toBe(204);
    acknowledged = Date.now();
    expect(await seenOnB('disconnect', id, acknowledged, (r) => r.status === 404)).toBeLessThan(
      PROPAGATION_BOUND_MS,
    );
  }, 60_000);

  it('a replica in its own process: a refresh and a disconnect on A reach it within the bound', async () => {
    const port = await freePort();
    const c = spawnBrokerProcess(s.brokerSetup, {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    try {
      await waitForLog(c, /token broker listening/);
      const onC = async (id: string) => {
        const response = await fetch(`http://127.0.0.1:${port}/v1/connections/${id}/token`, {
          headers: { authorization: `Bearer ${key}` },
        });
        return {
          status: response.status,
          body: (await response.json()) as { accessToken?: string },
        };
      };
      const id = await s.connectOk(key, { tenantId: 'tenant-cache-process' });
      const first = await onC(id);
      expect(first.status).toBe(200);
      // C serves from its cache: a status changed behind the broker (SQL) is not seen.
      await sql("UPDATE connections SET status = 'needs_reauth' WHERE id = $1", [id]);
      expect((await onC(id)).status).toBe(200);
      await sql("UPDATE connections SET status = 'active' WHERE id = $1", [id]);

      expect((await s.api(`/v1/connections/${id}/refresh`, { method: 'POST', key })).status).toBe(
        200,
      );
      let acknowledged = Date.now();
      for (;;) {
        const response = await onC(id);
        if (response.status === 200 && response.body.accessToken !== first.body.accessToken) break;
        if (Date.now() - acknowledged > 5_000) throw new Error('C still serves the old token');
      }
      delays['refresh (other process)'] = Date.now() - acknowledged;
      expect(delays['refresh (other process)']).toBeLessThan(PROPAGATION_BOUND_MS);

      expect((await s.api(`/v1/connections/${id}`, { method: 'DELETE', key })).status).toBe(204);
      acknowledged = Date.now();
      while ((await onC(id)).status !== 404) {
        if (Date.now() - acknowledged > 5_000) throw new Error('C still serves a disconnected one');
      }
      delays['disconnect (other process)'] = Date.now() - acknowledged;
      expect(delays['disconnect (other process)']).toBeLessThan(PROPAGATION_BOUND_MS);
    } finally {
      c.child.kill('SIGTERM');
      await c.exited;
    }
  }, 60_000);

  it('with the invalidation channel down, B reads PostgreSQL every time; back, it starts empty', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-cache-outage' });
    expect((await read(b, id)).status).toBe(200);
    expect(cachedOnB(id)).toBeDefined();

    await redis.stop();
    await eventually(async () => {
      for (const broker of s.brokers) expect(broker.app.get(ConnectionCache).live).toBe(false);
    }, 5_000);
    expect(cachedOnB(id)).toBeUndefined();
    // A fresh token needs no Redis: served, from the database.
    expect((await read(b, id)).status).toBe(200);
    expect(cachedOnB(id)).toBeUndefined();
    // A write nobody could announce is seen at once.
    await sql(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`, [id]);
    expect((await read(b, id)).status).toBe(409);
    await sql(`UPDATE connections SET status = 'active' WHERE id = $1`, [id]);
    expect((await read(b, id)).status).toBe(200);

    await redis.restart();
    await eventually(async () => {
      for (const broker of s.brokers) expect(broker.app.get(ConnectionCache).live).toBe(true);
    }, 10_000);
    expect(cachedOnB(id)).toBeUndefined();
    expect((await read(b, id)).status).toBe(200);
    expect(cachedOnB(id)).toBeDefined();
  }, 60_000);
});
