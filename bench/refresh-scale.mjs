#!/usr/bin/env node
// `npm run bench:refresh-scale`: can the proactive refresh sweep keep 100,000
// connections with 30-minute tokens fresh (about 5,000 refreshes a minute)?
//
// Seeds a throwaway database (INSERT … SELECT generate_series; the sweep never
// opens credentials, so their ciphertext is a dummy byte) with 100,000
// connections whose 30-minute tokens expire evenly over the next 30 minutes,
// plus idle grants (60-day tokens last refreshed 1-3 days ago, some never)
// that must not starve. Then runs simulated minutes: each minute the real
// RefreshSweep (under the real sweep lease, offered to two replicas) queues
// what is due on real Redis, and two real job workers drain the queue
// through the real RefreshProcessor (per-integration slots included), with
// the provider replaced by a fake that waits BENCH_PROVIDER_MS and stores a
// new 30-minute expiry. Schedule reconciliation runs each minute too, for
// the one integration that syncs on a schedule. Results go to
// bench/results/refresh-scale.{json,md}.
//
// Runs its TypeScript sources through tsx: no build needed.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { applyMigrations } from '../prisma/migrate.mjs';

const root = path.resolve(import.meta.dirname, '..');
const src = (p) => import(path.join(root, 'src', p));
const adminUrl =
  process.env.BENCH_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100_000);
const IDLE = Number(process.env.BENCH_IDLE ?? 2_000);
const NEVER = Number(process.env.BENCH_NEVER_REFRESHED ?? 100);
// Past 20 minutes every token has been refreshed once and the steady 5,000 a minute shows.
const MINUTES = Number(process.env.BENCH_MINUTES ?? 26);
const PROVIDER_MS = Number(process.env.BENCH_PROVIDER_MS ?? 20);
const WORKER_CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 32);
const INTEGRATION_CONCURRENCY = Number(process.env.BENCH_INTEGRATION_CONCURRENCY ?? 20);
const TOKEN_SECONDS = 1_800;
const MARGIN_SECONDS = 600;
const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(root, 'bench', 'results');
const stamp = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const database = `tb_bench_refresh_${stamp}`;
const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${database}`);
const redisPrefix = `tb-bench:${stamp}:`;
/** Share of the connections per integration; crm-d also syncs on a schedule. */
const INTEGRATIONS = [
  ['crm-a', 0.5],
  ['crm-b', 0.25],
  ['crm-c', 0.15],
  ['crm-d', 0.1],
];

async function admin(sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const quantile = (values, q) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const round = (n, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

async function seed(db, t0) {
  // Integration by position: crm-a takes the first 50 %, and so on.
  let from = 0;
  const cases = INTEGRATIONS.map(([key, share]) => {
    const to = from + share;
    const clause = `WHEN i <= ${Math.round(to * CONNECTIONS)} THEN '${key}'`;
    from = to;
    return clause;
  }).join(' ');
  // 30-minute tokens, expiries spread evenly over the next 30 minutes.
  await db.query(
    `INSERT INTO connections (id, tenant_id, integration_key, provider, status, account_id,
                              scopes, expires_at, last_refreshed_at, updated_at)
     SELECT gen_random_uuid(), 'tenant-' || (i % 1000), CASE ${cases} END, 'oauth2', 'active',
            'acct-' || i, '{}',
            $1::timestamptz + make_interval(secs => i * $3::float8 / $2::int),
            $1::timestamptz + make_interval(secs => i * $3::float8 / $2::int - $3::int),
            now()
     FROM generate_series(1, $2::int) AS i`,
    [t0, CONNECTIONS, TOKEN_SECONDS],
  );
  // Idle grants: 60-day tokens last refreshed 1 to 3 days ago (due by idleness), some never.
  await db.query(
    `INSERT INTO connections (id, tenant_id, integration_key, provider, status, account_id,
                              scopes, expires_at, last_refreshed_at, updated_at)
     SELECT gen_random_uuid(), 'tenant-idle', 'crm-' || chr(97 + i % 4), 'oauth2', 'active',
            'idle-' || i, '{}', $1::timestamptz + interval '60 days',
            CASE WHEN i <= $3::int THEN NULL
                 ELSE $1::timestamptz - make_interval(secs => 86400 + (i * 7919) % 172800) END,
            now()
     FROM generate_series(1, $2::int) AS i`,
    [t0, IDLE, NEVER],
  );
  await db.query(
    `INSERT INTO credentials (connection_id, key_id, ciphertext, version, updated_at)
     SELECT id, 'bench', '\\x00'::bytea, 1, now() FROM connections`,
  );
  await db.query('ANALYZE connections; ANALYZE credentials');
}

async function main() {
  const [
    { PrismaService },
    { Secret },
    { Clock },
    { ConnectionStore },
    { ConnectionSweepsRepository },
    { ConnectionsRepository },
    { RedisService },
    { RedisLock },
    { Metrics },
    { JobQueue },
    { JobWorkers },
    { IntegrationRegistry },
    { IntegrationSlots },
    { RefreshSweep },
    { RefreshProcessor },
    { SweepsScheduler },
    { SyncSchedules },
  ] = await Promise.all([
    src('infra/prisma/prisma.service.ts'),
    src('common/secret.ts'),
    src('infra/clock/clock.ts'),
    src('connections/connection-store.ts'),
    src('connections/connection-sweeps.repository.ts'),
    src('connections/connections.repository.ts'),
    src('infra/redis/redis.service.ts'),
    src('infra/locks/redis-lock.ts'),
    src('infra/metrics/metrics.ts'),
    src('infra/queue/job-queue.ts'),
    src('infra/queue/job-workers.ts'),
    src('integrations/integration-registry.ts'),
    src('refresh/integration-slots.ts'),
    src('refresh/refresh.sweep.ts'),
    src('refresh/refresh.processor.ts'),
    src('worker/sweeps.scheduler.ts'),
    src('sync/sync-schedules.ts'),
  ]);

  // The sweep logs every tick; the figures say more.
  const { Logger } = await import('@nestjs/common');
  Logger.overrideLogger(['error', 'warn']);
  await admin(`CREATE DATABASE "${database}"`);
  const db = new pg.Client({ connectionString: databaseUrl });
  let prisma;
  const closers = [];
  try {
    await applyMigrations(databaseUrl);
    await db.connect();
    const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const seedStart = performance.now();
    await seed(db, t0);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.log(`seeded ${CONNECTIONS + IDLE} connections in ${round(seedSeconds)} s`);

    class SimClock extends Clock {
      at = t0;
      now() {
        return this.at;
      }
    }
    const clock = new SimClock();
    const config = {
      role: 'worker',
      redis: { url: new Secret(redisUrl), prefix: redisPrefix },
      sweepIntervalSeconds: 0,
      syncSchedulesFullMinutes: 60,
      tokens: {
        refreshMarginSeconds: MARGIN_SECONDS,
        idleRefreshSeconds: 86_400,
        lockTtlMs: 25_000,
        fenceTtlMs: 25_000,
      },
      refreshSweep: {
        concurrency: WORKER_CONCURRENCY,
        integrationConcurrency: INTEGRATION_CONCURRENCY,
        maxPerTick: 50_000,
      },
      sync: { concurrency: 1, jobLockMs: 30_000 },
    };
    prisma = new PrismaService({ databaseUrl: new Secret(databaseUrl) });
    const redis = new RedisService(config);
    await redis.onModuleInit?.();
    const queue = new JobQueue(config);
    await queue.onModuleInit?.();
    closers.push(
      () => queue.onApplicationShutdown(),
      () => redis.onApplicationShutdown(),
    );
    const sweepsRepository = new ConnectionSweepsRepository(prisma);
    const connectionsRepository = new ConnectionsRepository(prisma, {});
    const store = new ConnectionStore(connectionsRepository, sweepsRepository);
    const integrations = new IntegrationRegistry(
      INTEGRATIONS.map(([key]) => ({
        key,
        ...(key === 'crm-d' && { sync: { every: '1h', models: ['contacts'] } }),
      })),
    );
    const sweep = new RefreshSweep(
      config,
      store,
      integrations,
      queue,
      { isHeld: async () => false },
      clock,
    );
    const schedules = new SyncSchedules(config, store, integrations, queue, redis, clock);

    // The fake provider: a round trip, then a new 30-minute token (from simulated now).
    const inFlight = new Map();
    const maxInFlight = new Map();
    const integrationOf = new Map(
      (await db.query('SELECT id, integration_key FROM connections')).rows.map((r) => [
        r.id,
        r.integration_key,
      ]),
    );
    let refreshed = 0;
    const fakeRefresher = {
      refresh: async (connectionId) => {
        const key = integrationOf.get(connectionId);
        const n = (inFlight.get(key) ?? 0) + 1;
        inFlight.set(key, n);
        maxInFlight.set(key, Math.max(maxInFlight.get(key) ?? 0, n));
        try {
          await sleep(PROVIDER_MS);
          const at = clock.now();
          await prisma.connection.update({
            where: { id: connectionId },
            data: { expiresAt: new Date(at.getTime() + TOKEN_SECONDS * 1000), lastRefreshedAt: at },
          });
          refreshed += 1;
        } finally {
          inFlight.set(key, inFlight.get(key) - 1);
        }
      },
    };
    // Two worker processes' worth of consumers, sharing the per-integration slots.
    const workers = [];
    for (let w = 0; w < 2; w += 1) {
      const workerRedis = new RedisService(config);
      await workerRedis.onModuleInit?.();
      const jobWorkers = new JobWorkers(config, queue);
      const processor = new RefreshProcessor(
        config,
        jobWorkers,
        store,
        fakeRefresher,
        new IntegrationSlots(workerRedis, config),
        clock,
      );
      processor.onModuleInit();
      workers.push(jobWorkers);
      closers.unshift(
        () => jobWorkers.onModuleDestroy(),
        () => workerRedis.onApplicationShutdown(),
      );
    }

    // Two replicas offered every sweep turn: the lease lets one run it.
    const replicas = [];
    for (let r = 0; r < 2; r += 1) {
      const replicaRedis = new RedisService(config);
      await replicaRedis.onModuleInit?.();
      closers.push(() => replicaRedis.onApplicationShutdown());
      replicas.push(
        new SweepsScheduler(config, {}, { sweeps: [] }, new Metrics(), new RedisLock(replicaRedis)),
      );
    }
    const ranBy = [0, 0];
    let bothRan = 0;
    const lastTick = { value: undefined };
    const refreshDef = {
      name: 'refresh',
      everyIntervals: 1,
      run: async () => (lastTick.value = await sweep.tick()),
    };
    const lastReconcile = { value: undefined };
    const schedulesDef = {
      name: 'sync_schedules',
      everyIntervals: 1,
      run: async () => (lastReconcile.value = await schedules.reconcile()),
    };

    const ticks = [];
    let maxBacklog = 0;
    let expiredSeen = 0;
    let maxExpiredAtTick = 0;
    for (let minute = 0; minute < MINUTES; minute += 1) {
      // Starvation: an active token that reached its expiry without a refresh.
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM connections WHERE status = 'active' AND expires_at <= $1`,
        [clock.now()],
      );
      const expired = rows[0].n;
      expiredSeen += expired;
      maxExpiredAtTick = Math.max(maxExpiredAtTick, expired);

      const started = performance.now();
      const ran = await Promise.all(replicas.map((r) => r.run(refreshDef)));
      const sweepMs = performance.now() - started;
      ran.forEach((r, i) => (ranBy[i] += r ? 1 : 0));
      if (ran.every(Boolean)) bothRan += 1;
      const tick = lastTick.value;

      const reconcileStart = performance.now();
      await Promise.all(replicas.map((r) => r.run(schedulesDef)));
      const reconcileMs = performance.now() - reconcileStart;

      // Drain: how long real workers take to refresh what this minute queued.
      const drainStart = performance.now();
      let backlog = await queue.backlog('refresh');
      maxBacklog = Math.max(maxBacklog, backlog);
      while (backlog > 0) {
        await sleep(100);
        backlog = await queue.backlog('refresh');
        maxBacklog = Math.max(maxBacklog, backlog);
        if (performance.now() - drainStart > 300_000) throw new Error('queue did not drain');
      }
      const drainMs = performance.now() - drainStart;
      const row = {
        minute,
        expiredBeforeSweep: expired,
        selected: tick.selected,
        queued: tick.queued,
        pages: tick.pages,
        capped: tick.capped,
        sweepMs: round(sweepMs),
        enqueuePerSecond: round(tick.queued / (sweepMs / 1000), 0),
        drainMs: round(drainMs),
        refreshesPerSecond: tick.queued ? round(tick.queued / (drainMs / 1000), 0) : 0,
        reconcile: { ...lastReconcile.value, ms: round(reconcileMs) },
      };
      ticks.push(row);
      console.log(JSON.stringify(row));
      clock.at = new Date(clock.at.getTime() + 60_000);
    }

    const { rows: idleLeft } = await db.query(
      `SELECT count(*)::int AS n FROM connections
       WHERE tenant_id = 'tenant-idle' AND (last_refreshed_at IS NULL OR last_refreshed_at < $1)`,
      [t0],
    );
    const { rows: plan } = await db.query(
      `EXPLAIN SELECT c.id FROM connections c WHERE c.status = 'active'
         AND c.expires_at <= now() + interval '10 minutes' ORDER BY c.expires_at, c.id LIMIT 1000`,
    );
    const steady = ticks.slice(1);
    const sweepMs = steady.map((t) => t.sweepMs);
    const result = {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      setup: {
        connections: CONNECTIONS,
        tokenMinutes: TOKEN_SECONDS / 60,
        idleGrants: IDLE,
        neverRefreshed: NEVER,
        simulatedMinutes: MINUTES,
        marginSeconds: MARGIN_SECONDS,
        providerMs: PROVIDER_MS,
        workers: 2,
        workerConcurrency: WORKER_CONCURRENCY,
        integrationConcurrency: INTEGRATION_CONCURRENCY,
        seedSeconds: round(seedSeconds),
      },
      summary: {
        refreshed,
        firstTick: ticks[0],
        steadySelectedPerTick: {
          median: quantile(
            steady.map((t) => t.selected),
            0.5,
          ),
          max: Math.max(...steady.map((t) => t.selected)),
        },
        sweepMs: {
          median: quantile(sweepMs, 0.5),
          p99: quantile(sweepMs, 0.99),
          max: Math.max(...sweepMs),
          firstTick: ticks[0].sweepMs,
        },
        enqueuePerSecond: {
          median: quantile(
            ticks.map((t) => t.enqueuePerSecond),
            0.5,
          ),
          firstTick: ticks[0].enqueuePerSecond,
        },
        refreshesPerSecond: {
          median: quantile(
            steady.map((t) => t.refreshesPerSecond),
            0.5,
          ),
        },
        drainMs: {
          median: quantile(
            steady.map((t) => t.drainMs),
            0.5,
          ),
          max: Math.max(...steady.map((t) => t.drainMs)),
          firstTick: ticks[0].drainMs,
        },
        maxBacklog,
        expiredWithoutRefresh: { sumOverTicks: expiredSeen, maxAtOneTick: maxExpiredAtTick },
        idleGrantsNotRefreshed: idleLeft[0].n,
        maxConcurrencyPerIntegration: Object.fromEntries(maxInFlight),
        lease: { ranByReplicaA: ranBy[0], ranByReplicaB: ranBy[1], bothRanSameTurn: bothRan },
        reconcile: {
          firstPass: ticks[0].reconcile,
          laterVisitedMedian: quantile(
            steady.map((t) => t.reconcile.visited ?? 0),
            0.5,
          ),
          laterMsMedian: quantile(
            steady.map((t) => t.reconcile.ms),
            0.5,
          ),
        },
        expiryWalkPlan: plan.map((r) => r['QUERY PLAN']).join(' / '),
      },
      ticks,
    };
    await mkdir(resultsDir, { recursive: true });
    await writeFile(path.join(resultsDir, 'refresh-scale.json'), JSON.stringify(result, null, 2));
    await writeFile(path.join(resultsDir, 'refresh-scale.md'), markdown(result));
    console.log(markdown(result));
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    await prisma?.$disconnect().catch(() => undefined);
    await db.end().catch(() => undefined);
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await cleanRedis();
  }
}

/** Removes this run's keys (and only them). */
async function cleanRedis() {
  const { Redis } = await import('ioredis');
  const client = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await client.del(...keys);
  } while (cursor !== '0');
  await client.quit();
}

function markdown(r) {
  const s = r.summary;
  const lines = [
    '# Proactive refresh at scale',
    '',
    `${r.when}, ${r.machine.cpus} CPUs (shared), Node ${r.machine.node}. \`npm run bench:refresh-scale\`.`,
    '',
    `${r.setup.connections.toLocaleString('en')} connections with ${r.setup.tokenMinutes}-minute tokens expiring evenly over the first ${r.setup.tokenMinutes} minutes, plus ${r.setup.idleGrants.toLocaleString('en')} idle grants (60-day tokens last refreshed 1-3 days ago, ${r.setup.neverRefreshed} never), over 4 integrations (50/25/15/10 %). ${r.setup.simulatedMinutes} simulated minutes; each minute the real RefreshSweep runs under the sweep lease (offered to two replicas) on real PostgreSQL and Redis, then two workers (concurrency ${r.setup.workerConcurrency} each) drain the queue through the real RefreshProcessor with a fake provider (${r.setup.providerMs} ms per refresh), at most ${r.setup.integrationConcurrency} refreshes per integration at once. Seeding took ${r.setup.seedSeconds} s.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| refreshes done | ${s.refreshed.toLocaleString('en')} |`,
    `| first tick (backlog: all within the ${r.setup.marginSeconds / 60}-minute margin) | ${s.firstTick.selected.toLocaleString('en')} selected in ${s.firstTick.pages} pages, ${s.firstTick.sweepMs} ms (${s.enqueuePerSecond.firstTick.toLocaleString('en')} jobs/s enqueued), drained in ${round(s.drainMs.firstTick / 1000)} s |`,
    `| rows selected per tick after that | median ${s.steadySelectedPerTick.median.toLocaleString('en')}, max ${s.steadySelectedPerTick.max.toLocaleString('en')} |`,
    `| sweep tick duration | median ${s.sweepMs.median} ms, p99 ${s.sweepMs.p99} ms, max ${s.sweepMs.max} ms |`,
    `| enqueue rate (median over ticks) | ${s.enqueuePerSecond.median.toLocaleString('en')} jobs/s |`,
    `| refresh throughput while draining (median) | ${s.refreshesPerSecond.median.toLocaleString('en')} refreshes/s; a minute's work drained in median ${round(s.drainMs.median / 1000)} s, max ${round(s.drainMs.max / 1000)} s |`,
    `| max queue backlog | ${s.maxBacklog.toLocaleString('en')} |`,
    `| tokens that expired without a refresh (starvation) | ${s.expiredWithoutRefresh.sumOverTicks} (max ${s.expiredWithoutRefresh.maxAtOneTick} at one tick) |`,
    `| idle / never-refreshed grants left unrefreshed at the end | ${s.idleGrantsNotRefreshed} of ${r.setup.idleGrants} |`,
    `| max refreshes in flight per integration (cap ${r.setup.integrationConcurrency}) | ${Object.entries(
      s.maxConcurrencyPerIntegration,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
    `| sweep lease (two replicas offered each turn) | replica A ran ${s.lease.ranByReplicaA}, B ran ${s.lease.ranByReplicaB}, both in one turn ${s.lease.bothRanSameTurn} |`,
    `| schedule reconciliation (crm-d, 1 model) | first (full) pass: ${s.reconcile.firstPass.visited?.toLocaleString('en')} connections, ${s.reconcile.firstPass.added?.toLocaleString('en')} schedulers added, ${round(s.reconcile.firstPass.ms / 1000)} s; later passes (changes only): median ${s.reconcile.laterVisitedMedian.toLocaleString('en')} connections visited, ${s.reconcile.laterMsMedian} ms |`,
    '',
    `Expiry walk plan: \`${s.expiryWalkPlan}\``,
    '',
    'Reading the figures: simulated time stands still while a minute drains, so every connection refreshed in the first tick got the same new expiry and came due together again at minute 20 (a burst of the simulation, absorbed like the first: no expiry missed). Over any 20 minutes the 100,000 tokens need 100,000 refreshes, 5,000 a minute; the workers drained at the median rate above, many times that. Between full passes, schedule reconciliation re-reads the last 60 s of wall-clock changes (a look-back for late commits); with minutes compressed into seconds that window spans several simulated minutes, so it re-visits most of crm-d here, where a real minute would visit about two minutes of changes.',
    '',
    '## Per tick',
    '',
    '| minute | expired before sweep | selected | queued | pages | sweep ms | jobs/s | drain s | refreshes/s | reconcile visited | reconcile ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.ticks.map(
      (t) =>
        `| ${t.minute} | ${t.expiredBeforeSweep} | ${t.selected} | ${t.queued} | ${t.pages} | ${t.sweepMs} | ${t.enqueuePerSecond} | ${round(t.drainMs / 1000)} | ${t.refreshesPerSecond} | ${t.reconcile.visited ?? '-'} | ${t.reconcile.ms} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

// `--render`: rewrite the Markdown from the last JSON (after changing this file's wording).
if (process.argv.includes('--render')) {
  const { readFile } = await import('node:fs/promises');
  const last = JSON.parse(await readFile(path.join(resultsDir, 'refresh-scale.json'), 'utf8'));
  await writeFile(path.join(resultsDir, 'refresh-scale.md'), markdown(last));
  process.exit(0);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
