import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { Secret } from '../../src/common/secret.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { ConnectionStore } from '../../src/connections/connection-store.js';
import type { ConnectionCache } from '../../src/connections/connection-cache.js';
import { ConnectionSweepsRepository } from '../../src/connections/connection-sweeps.repository.js';
import type { ConnectionsRepository } from '../../src/connections/connections.repository.js';
import { Clock } from '../../src/infra/clock/clock.js';
import { RedisLock } from '../../src/infra/locks/redis-lock.js';
import { Metrics } from '../../src/infra/metrics/metrics.js';
import type { PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { JobQueue } from '../../src/infra/queue/job-queue.js';
import { RedisService } from '../../src/infra/redis/redis.service.js';
import type { Integration } from '../../src/integrations/integration.js';
import { IntegrationRegistry } from '../../src/integrations/integration-registry.js';
import type { IntegrationHealth } from '../../src/refresh/integration-health.service.js';
import { IntegrationSlots } from '../../src/refresh/integration-slots.js';
import { RefreshSweep } from '../../src/refresh/refresh.sweep.js';
import { SweepsScheduler } from '../../src/worker/sweeps.scheduler.js';
import { CredentialSealer } from '../../src/crypto/credential-sealer.js';
import { withDb } from '../support/db.js';
import { runCipher, testPrisma } from '../support/infra.js';
import { testEnv } from '../support/test-env.js';

const SEED_TENANT = 'sweep-tenant';

class FixedClock extends Clock {
  constructor(public at: Date) {
    super();
  }
  now(): Date {
    return this.at;
  }
}

/**
 * Seeds `count` active connections of `integration` straight in SQL.
 * `expiresInMs(i)` and `refreshedAgoMs(i)` (null: never refreshed) place
 * each on the timeline. The sweep never opens credentials, but they are
 * sealed for real: the test database is shared, and a broker starting in
 * another suite checks that stored credentials open under its keys.
 */
async function seed(
  integration: string,
  count: number,
  now: Date,
  expiresInMs: string,
  refreshedAgoMs: string,
): Promise<void> {
  const sealer = new CredentialSealer(await runCipher());
  await withDb(async (db) => {
    const { rows } = await db.query<{ id: string }>(
      `WITH s AS (SELECT gen_random_uuid() AS id, i FROM generate_series(1, $2::int) AS i)
       INSERT INTO connections (id, tenant_id, integration_key, provider, status, account_id,
                                scopes, expires_at, last_refreshed_at, updated_at)
       SELECT id, '${SEED_TENANT}', $1, 'oauth2', 'active', id::text, '{}',
              $3::timestamptz + make_interval(secs => (${expiresInMs})::float8 / 1000),
              $3::timestamptz - make_interval(secs => (${refreshedAgoMs})::float8 / 1000),
              now()
       FROM s RETURNING id`,
      [integration, count, now],
    );
    const sealed = rows.map(({ id }) =>
      sealer.seal(
        {
          accessToken: `at-${id}`,
          refreshToken: `rt-${id}`,
          tokenType: 'Bearer',
          expiresAt: now,
          scopes: [],
          extras: {},
        },
        { id, tenantId: SEED_TENANT },
      ),
    );
    await db.query(
      `INSERT INTO credentials (connection_id, key_id, ciphertext, version, updated_at)
       SELECT id, key_id, ciphertext, 1, now()
       FROM unnest($1::uuid[], $2::text[], $3::bytea[]) AS t(id, key_id, ciphertext)`,
      [
        rows.map((row) => row.id),
        sealed.map((s) => s.keyId),
        sealed.map((s) => Buffer.from(s.ciphertext)),
      ],
    );
  });
}

describe('the proactive refresh sweep at scale (keyset walks, fairness, lease)', () => {
  let prisma: PrismaService;
  let redis: RedisService;
  let queue: JobQueue;
  let store: ConnectionStore;
  const prefix = `${testEnv().redisPrefix}sweep-${randomBytes(3).toString('hex')}:`;
  const now = new Date('2030-01-01T12:00:00Z');

  const config = (maxPerTick: number) =>
    ({
      redis: { url: new Secret(testEnv().redisUrl), prefix },
      sweepIntervalSeconds: 60,
      tokens: { refreshMarginSeconds: 600, idleRefreshSeconds: 86_400, lockTtlMs: 25_000 },
      refreshSweep: { concurrency: 8, integrationConcurrency: 5, maxPerTick },
    }) as unknown as AppConfig;

  const sweepFor = (keys: string[], maxPerTick: number) =>
    new RefreshSweep(
      config(maxPerTick),
      store,
      new IntegrationRegistry(keys.map((key) => ({ key }) as Integration)),
      queue,
      { isHeld: async () => false } as unknown as IntegrationHealth,
      new FixedClock(now),
    );

  const queuedIds = async () => {
    const jobs = await queue.queue('refresh').getJobs(['waiting', 'delayed', 'prioritized']);
    return new Set(jobs.map((job) => job.id));
  };

  beforeAll(async () => {
    prisma = testPrisma();
    redis = new RedisService(config(0));
    // Without an offline queue, commands wait for the first connect.
    await (redis as { onModuleInit?: () => Promise<void> }).onModuleInit?.();
    queue = new JobQueue(config(0));
    await (queue as { onModuleInit?: () => Promise<void> }).onModuleInit?.();
    store = new ConnectionStore(
      {} as ConnectionsRepository,
      new ConnectionSweepsRepository(prisma),
      {} as ConnectionCache,
    );
  });

  afterAll(async () => {
    const keys = await redis.client.keys(`${prefix}*`);
    if (keys.length) await redis.client.del(...keys);
    await queue.onApplicationShutdown();
    await redis.onApplicationShutdown();
    await withDb((db) => db.query('DELETE FROM connections WHERE tenant_id = $1', [SEED_TENANT]));
    await prisma.$disconnect();
  });

  it('queues every due connection in keyset pages, past the old 1,000 cap, each once', async () => {
    const key = `batch-${randomBytes(3).toString('hex')}`;
    // 2,500 due (expiring within the 10-minute margin, 30-minute tokens), 500 not yet.
    await seed(key, 2_500, now, `(i % 600) * 1000`, `(1800 - i % 600) * 1000`);
    await seed(key + '-later', 500, now, `(1200 + i) * 1000`, `(600 - i) * 1000`);
    const sweep = sweepFor([key, `${key}-later`], 50_000);
    const tick = await sweep.tick();
    expect(tick).toMatchObject({ selected: 2_500, queued: 2_500, capped: false });
    expect(tick.pages).toBeGreaterThanOrEqual(3);
    expect((await queuedIds()).size).toBe(2_500);
    // Queued already: a second tick selects them again but adds nothing.
    expect((await sweep.tick()).queued).toBe(2_500);
    expect((await queuedIds()).size).toBe(2_500);
    await queue.queue('refresh').obliterate({ force: true });
  }, 20_000);

  it('queues by expiry: workers take the soonest first, also a job that went back to the queue', async () => {
    const key = `order-${randomBytes(3).toString('hex')}`;
    // 50 due, expiring 1 s apart (the walk reads them soonest first).
    await seed(key, 50, now, `i * 1000`, `1800 * 1000`);
    await sweepFor([key], 50_000).tick();
    const { rows } = await withDb((db) =>
      db.query<{ id: string }>(
        'SELECT id FROM connections WHERE integration_key = $1 ORDER BY expires_at, id',
        [key],
      ),
    );
    const expected = rows.map((row) => `refresh-${row.id}`);
    const refresh = queue.queue('refresh');
    expect((await refresh.getJobs(['prioritized'], 0, -1, true)).map((job) => job.id)).toEqual(
      expected,
    );
    // A worker takes the soonest; it finds no slot and goes back to the queue
    // for a moment (what RetryLater does); the next take is the same job
    // again, in its place, not the 49 behind it.
    const connection = new Redis(testEnv().redisUrl, { maxRetriesPerRequest: null });
    const worker = new Worker(refresh.name, null, { connection, prefix: refresh.opts.prefix });
    try {
      const first = await worker.getNextJob('t1');
      expect(first?.id).toBe(expected[0]);
      await first?.moveToDelayed(Date.now() + 20, 't1');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await worker.getNextJob('t2');
      expect(again?.id).toBe(expected[0]);
    } finally {
      await worker.close();
      await connection.quit();
    }
    await refresh.obliterate({ force: true });
  }, 20_000);

  it('shares a capped tick between the walks: idle and never-refreshed grants are not starved, oldest due first', async () => {
    const key = `fair-${randomBytes(3).toString('hex')}`;
    // 1,500 expiring soon; 200 idle for two days (60-day tokens), 10 of them never refreshed.
    await seed(key, 1_500, now, `i * 100`, `(1800 * 1000) - i * 100`);
    await seed(key, 200, now, `60 * 86400 * 1000::float8`, `2 * 86400 * 1000::float8 + i * 1000`);
    await withDb((db) =>
      db.query(
        `UPDATE connections SET last_refreshed_at = NULL
         WHERE id IN (SELECT id FROM connections WHERE integration_key = $1
                      AND expires_at > $2::timestamptz + interval '1 day' LIMIT 10)`,
        [key, now],
      ),
    );
    const tick = await sweepFor([key], 1_000).tick();
    expect(tick).toMatchObject({ queued: 1_000, capped: true });
    const queued = await queuedIds();
    const { rows } = await withDb((db) =>
      db.query<{ id: string; idle: boolean; expires_at: Date }>(
        `SELECT id, expires_at > $2::timestamptz + interval '1 day' AS idle, expires_at
         FROM connections WHERE integration_key = $1 ORDER BY expires_at, id`,
        [key, now],
      ),
    );
    const idle = rows.filter((row) => row.idle);
    // Every idle grant made it in, never-refreshed ones too…
    expect(idle).toHaveLength(200);
    expect(idle.filter((row) => queued.has(`refresh-${row.id}`))).toHaveLength(200);
    // …and the expiring ones that did are the soonest to expire.
    const expiring = rows.filter((row) => !row.idle);
    const taken = expiring.filter((row) => queued.has(`refresh-${row.id}`)).length;
    expect(taken).toBe(800);
    expect(expiring.slice(0, taken).every((row) => queued.has(`refresh-${row.id}`))).toBe(true);
    await queue.queue('refresh').obliterate({ force: true });
  }, 20_000);

  it('runs on one replica at a time: of two schedulers, one sweeps and the other skips', async () => {
    const key = `lease-${randomBytes(3).toString('hex')}`;
    await seed(key, 300, now, `i * 1000`, `1500 * 1000`);
    const sweep = sweepFor([key], 50_000);
    let runs = 0;
    const definition = {
      name: `refresh-${key}`,
      everyIntervals: 1,
      run: async () => {
        runs += 1;
        return sweep.tick();
      },
    };
    const replica = () =>
      new SweepsScheduler(
        config(50_000),
        {} as SchedulerRegistry,
        { sweeps: [definition] },
        new Metrics(),
        new RedisLock(redis),
      );
    const [a, b] = [replica(), replica()];
    const ran = await Promise.all([a.run(definition), b.run(definition)]);
    expect(ran.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
    expect((await queuedIds()).size).toBe(300);
    // The lease is kept until just before the winner's next turn: a replica
    // whose timer fires later in the same interval skips too.
    expect(await b.run(definition)).toBe(false);
    expect(await a.run(definition)).toBe(false);
    const ttl = await redis.client.pttl(redis.key('lock', `sweep:${definition.name}`));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(58_000);
    await queue.queue('refresh').obliterate({ force: true });
  }, 20_000);

  it('caps refreshes of one integration in flight, across workers; a crashed holder frees its slot', async () => {
    const slots = new IntegrationSlots(redis, {
      ...config(0),
      tokens: { lockTtlMs: 300 },
    } as unknown as AppConfig);
    const taken = await Promise.all(Array.from({ length: 30 }, () => slots.tryTake('capped')));
    const held = taken.filter((slot) => slot !== undefined);
    expect(held).toHaveLength(5);
    expect(await slots.tryTake('other')).toBeDefined();
    await held[0]!.release();
    expect(await slots.tryTake('capped')).toBeDefined();
    expect(await slots.tryTake('capped')).toBeUndefined();
    // Nobody releases: the slots lapse after the refresh lock's lifetime.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await slots.tryTake('capped')).toBeDefined();
  });

  it('walks are served by their indexes', async () => {
    const plans = await withDb(async (db) => {
      await db.query('ANALYZE connections');
      const explain = async (sql: string) =>
        (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
      return [
        await explain(`SELECT id FROM connections c WHERE c.status = 'active'
          AND c.expires_at <= now() + interval '10 minutes' ORDER BY c.expires_at, c.id LIMIT 1000`),
        await explain(`SELECT id FROM connections c WHERE c.status = 'active'
          AND c.last_refreshed_at < now() - interval '1 day' ORDER BY c.last_refreshed_at, c.id LIMIT 1000`),
      ];
    });
    expect(plans[0]).toContain('connections_status_expires_at_id_idx');
    expect(plans[1]).toContain('connections_status_last_refreshed_at_id_idx');
  });
});
