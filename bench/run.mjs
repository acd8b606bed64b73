#!/usr/bin/env node
// `npm run bench`: the token API against baselines measured in the same run,
// scale-out over broker processes, a refresh storm, a mass expiry and a sync
// ingest. Every figure is the median of BENCH_ROUNDS rounds, except the mass
// expiry's: it runs once (a round is a minute of expiries). The broker runs
// built (dist/), in its own processes; autocannon drives it from this one, on
// the same cores.
//
// 1. Token API (fresh token, service key, audit on, BENCH_CONNECTIONS = 64):
//    against a bare node:http server answering a JSON body of the same length
//    (its own process) and the broker's own hello-world route (/health/live);
//    at 1 connection, p50 against /health/live's (sequential requests, timed
//    to the microsecond: autocannon's histogram counts whole milliseconds).
// 2. Scale-out: the token API with 1, 2 and 3 broker processes behind one
//    port (node:cluster, bench/cluster.mjs).
// 3. Refresh storm: BENCH_STORM (1,000) concurrent token reads of one expired
//    connection spread over 3 broker processes (own ports), refreshing at the
//    sandbox authorization server (bench/sandbox.mjs): provider refreshes
//    counted there, latencies as multiples of one bare refresh call to it.
// 4. Mass expiry (bench/expiry.mjs): 10,000 tokens expiring within one
//    minute, refreshed by a worker process's own sweep at a fake token
//    endpoint; against that endpoint's own throughput at the same cap.
// 5. Sync ingest (bench/ingest.mjs): 100,000 contacts through the sync
//    engine in a worker process, against plain multi-row INSERTs; the
//    worker's peak RSS at 10,000 and at 100,000.
// Scenarios 4 and 5 each get a database and Redis prefix of their own.
//
// BENCH_SCENARIOS=token,scale,storm,expiry,ingest picks scenarios. Results go
// to bench/results/latest.{json,md} (BENCH_RESULTS_DIR). The CI smoke run
// (BENCH_SECONDS=1 BENCH_ROUNDS=1, or BENCH_SMOKE=1) shrinks scenarios 4 and 5
// to 500 connections and 5,000/1,000 contacts.
import { execFileSync, fork, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { writeFile, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { applyMigrations } from '../prisma/migrate.mjs';
import { durableCommitP50, withCpu } from './cpu.mjs';
import { expiryScenario } from './expiry.mjs';
import { ingestScenario } from './ingest.mjs';

const root = path.resolve(import.meta.dirname, '..');
const dist = (p) => import(path.join(root, 'dist', p));
const adminUrl =
  process.env.BENCH_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const duration = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const stormSize = Number(process.env.BENCH_STORM ?? 1000);
const scenarios = new Set(
  (process.env.BENCH_SCENARIOS ?? 'token,scale,storm,expiry,ingest').split(','),
);
// CI's smoke run proves every scenario still runs; full-size ones would take minutes.
const smoke = process.env.BENCH_SMOKE === '1' || (duration <= 1 && rounds === 1);
const port = Number(process.env.BENCH_PORT ?? 3900);
const stamp = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const database = `tb_bench_${stamp}`;
const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${database}`);
const redisPrefix = `tb-bench:${stamp}:`;
const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(root, 'bench', 'results');
const SCALE_COUNTS = [1, 2, 3];
// README, Configuration: a worker's young generation at a fixed 2 × 16 MB
// instead of V8's default, which grows to 2 × 64 MB once enough has survived
// its collections, as in a long sync run (a worker's RSS then depended on how
// long its runs had been).
const WORKER_NODE_OPTIONS = '--max-semi-space-size=16';
const STORM_BROKERS = 3;
const TARGETS = {
  tokenVsBareHttp: { min: 0.35, label: 'token / bare node:http req/s (64 conn.)' },
  tokenVsHello: { min: 0.7, label: 'token / hello-world req/s (64 conn.)' },
  tokenP99VsHelloP99: { max: 1.5, label: 'token p99 / hello-world p99 (64 conn.)' },
  tokenP50VsHelloP50At1: { max: 2, label: 'token p50 / hello-world p50 (1 conn.)' },
  stormProviderRefreshes: { equals: 1, label: 'provider refreshes in the storm' },
  expiryExpiredBeforeRefresh: { equals: 0, label: 'tokens expired before their refresh (expiry)' },
  expiryPeakVsCap: { max: 1, label: 'peak refreshes at the provider / cap (expiry)' },
  ingestVsPgInsert: { min: 0.5, label: 'sync records/s / pg multi-row INSERT records/s' },
  ingestPeakRssBigVsSmall: { max: 1.2, label: 'worker peak RSS, large run / small run (ingest)' },
};

const children = new Set();

async function admin(sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Connections written through the real repository, and (optionally) a service key. */
async function seed(env, grants, { withKey = false, url = databaseUrl } = {}) {
  const [
    { PrismaService },
    { TokenCipher },
    { parseEncryptionKeys },
    { ConnectionsRepository },
    { CredentialSealer },
    { ServiceKeysRepository },
    { ServiceKeysService },
    { SystemClock },
    { Secret },
  ] = await Promise.all([
    dist('infra/prisma/prisma.service.js'),
    dist('crypto/token-cipher.js'),
    dist('config/encryption-keys.js'),
    dist('connections/connections.repository.js'),
    dist('crypto/credential-sealer.js'),
    dist('auth/service-keys.repository.js'),
    dist('auth/service-keys.service.js'),
    dist('infra/clock/clock.js'),
    dist('common/secret.js'),
  ]);
  const prisma = new PrismaService({ databaseUrl: new Secret(url) });
  const cipher = await TokenCipher.create(parseEncryptionKeys(env.ENCRYPTION_KEYS));
  const repository = new ConnectionsRepository(prisma, new CredentialSealer(cipher));
  const ids = [];
  for (const grant of grants) {
    const { connection } = await repository.saveGrant({
      tenantId: 'bench-tenant',
      account: { id: `bench-account-${randomUUID()}` },
      status: 'active',
      at: new Date(),
      ...grant,
      tokens: { tokenType: 'Bearer', scopes: ['contacts.read'], extras: {}, ...grant.tokens },
    });
    ids.push(connection.id);
  }
  let key;
  if (withKey) {
    ({ key } = await new ServiceKeysService(
      new ServiceKeysRepository(prisma),
      new SystemClock(),
    ).create({ name: 'bench' }));
  }
  await prisma.$disconnect();
  return { ids, key };
}

async function waitReady(url) {
  for (let i = 0; i < 150; i += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`broker did not become ready at ${url}`);
}

function track(child, name) {
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!child.stopping && (code || signal))
      console.error(`${name} exited ${code ?? signal}: ${stderr}`);
  });
  return child;
}

async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.stopping = true;
  child.kill('SIGTERM');
  const exited = once(child, 'exit');
  if ((await Promise.race([exited.then(() => 'exited'), sleep(8_000)])) !== 'exited') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** One broker process (`node dist/main.js`) on `at`, ready. */
async function startBroker(env, at, extra = {}) {
  // e.g. BENCH_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the time goes.
  const nodeArgs = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = track(
    spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
      cwd: root,
      env: { ...env, PORT: String(at), PUBLIC_URL: `http://127.0.0.1:${at}`, ...extra },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
    `broker :${at}`,
  );
  await waitReady(`http://127.0.0.1:${at}/health/ready`);
  return child;
}

/**
 * One worker process (`node dist/main.js`, ROLE=worker: sweeps and job
 * processors, no listener), once it has started, with the Node options the
 * README gives worker processes (`BENCH_WORKER_NODE_OPTIONS` to try others).
 * Its log lines (JSON) go to `onLine`.
 */
async function startWorker(env, onLine = () => {}) {
  const nodeArgs = [
    ...(process.env.BENCH_WORKER_NODE_OPTIONS ?? WORKER_NODE_OPTIONS).split(' '),
    ...(process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' '),
  ].filter(Boolean);
  const child = track(
    spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
      cwd: root,
      env: { PUBLIC_URL: `http://127.0.0.1:${port}`, ...env, ROLE: 'worker' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    'worker',
  );
  const started = new Promise((resolve, reject) => {
    let rest = '';
    child.stdout.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const text of lines) {
        let line;
        try {
          line = JSON.parse(text);
        } catch {
          continue;
        }
        if (line.msg === 'token broker worker started') resolve();
        onLine(line);
      }
    });
    child.once('exit', () => reject(new Error('worker exited while starting')));
    setTimeout(() => reject(new Error('worker did not start within 30 s')), 30_000).unref();
  });
  try {
    await started;
  } catch (error) {
    await stop(child);
    throw error;
  }
  return child;
}

/** Removes every key under `prefix` (SCAN, not KEYS: the Redis is shared). */
async function cleanRedis(prefix) {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * A database (migrated), Redis prefix and integrations file of a scenario's
 * own, and the broker environment pointing at them; `cleanup()` removes all three.
 */
async function scratch(env, name) {
  const db = `${database}_${name}`;
  const url = adminUrl.replace(/\/[^/]*$/, `/${db}`);
  const prefix = `${redisPrefix}${name}:`;
  const integrationsFile = path.join(tmpdir(), `tb-bench-${stamp}-${name}.yaml`);
  const cleanup = async () => {
    await admin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await cleanRedis(prefix);
    await rm(integrationsFile, { force: true });
  };
  await admin(`CREATE DATABASE "${db}"`);
  try {
    await applyMigrations(url);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    url,
    integrationsFile,
    env: { ...env, DATABASE_URL: url, REDIS_PREFIX: prefix, INTEGRATIONS_FILE: integrationsFile },
    cleanup,
  };
}

/** `workers` broker processes behind one port (node:cluster), every one listening. */
async function startCluster(env, at, workers) {
  const child = track(
    fork(path.join(root, 'bench', 'cluster.mjs'), {
      cwd: root,
      env: {
        ...env,
        PORT: String(at),
        PUBLIC_URL: `http://127.0.0.1:${at}`,
        BENCH_WORKERS: String(workers),
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    }),
    `cluster of ${workers}`,
  );
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => {
      throw new Error(`cluster of ${workers} exited before listening`);
    }),
  ]);
  if (message?.ready !== workers) throw new Error(`cluster: ${JSON.stringify(message)}`);
  await waitReady(`http://127.0.0.1:${at}/health/ready`);
  return child;
}

/** The bare node:http baseline, in its own process; resolves to its port. */
async function startBareHttp(bodyLength) {
  const child = track(
    spawn(process.execPath, [path.join(root, 'bench', 'bare-http.mjs')], {
      env: { ...process.env, BODY_LENGTH: String(bodyLength) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    'bare node:http',
  );
  const [chunk] = await once(child.stdout, 'data');
  return { child, port: Number(String(chunk).trim()) };
}

function load(url, headers = {}, conns = connections) {
  return new Promise((resolve, reject) => {
    autocannon({ url, headers, connections: conns, duration, pipelining: 1 }, (error, result) =>
      error
        ? reject(error)
        : resolve({
            requestsPerSecond: Math.round(result.requests.average),
            p50: result.latency.p50,
            p99: result.latency.p99,
            failures: result.non2xx + result.errors + result.timeouts,
          }),
    );
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round3 = (n) => Math.round(n * 1000) / 1000;

/** One connection, one request at a time, for `duration` s: latencies in ms (µs resolution). */
async function sequential(url, headers = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  let failures = 0;
  const end = performance.now() + duration * 1000;
  try {
    while (performance.now() < end) {
      const started = performance.now();
      const status = await new Promise((resolve, reject) => {
        http
          .get(url, { agent, headers }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode));
          })
          .on('error', reject);
      });
      latencies.push(performance.now() - started);
      if (status !== 200) failures += 1;
    }
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: Math.round(latencies.length / duration),
    p50: round3(percentile(latencies, 50)),
    p99: round3(percentile(latencies, 99)),
    failures,
  };
}

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per-field medians over rounds (failures summed). */
function medianOf(samples) {
  const cpu = (field) => median(samples.map((s) => s.cpuUs?.[field]));
  return {
    requestsPerSecond: Math.round(median(samples.map((s) => s.requestsPerSecond))),
    p50: round3(median(samples.map((s) => s.p50))),
    p99: round3(median(samples.map((s) => s.p99))),
    failures: samples.reduce((sum, s) => sum + s.failures, 0),
    rounds: samples.map((s) => s.requestsPerSecond),
    ...(samples[0]?.cpuUs && {
      cpuUs: {
        server: cpu('server'),
        postgres: cpu('postgres'),
        loadGenerator: cpu('loadGenerator'),
      },
    }),
  };
}

function ipc(child) {
  let next = 0;
  return (message) =>
    new Promise((resolve, reject) => {
      const id = (next += 1);
      const onMessage = (answer) => {
        if (answer?.id !== id) return;
        child.off('message', onMessage);
        if (answer.error) reject(new Error(answer.error));
        else resolve(answer);
      };
      child.on('message', onMessage);
      child.send({ ...message, id });
    });
}

async function tokenScenario(env, base, auth, tokenUrl, brokerPid) {
  const probe = await fetch(tokenUrl, { headers: auth });
  const bodyLength = (await probe.arrayBuffer()).byteLength;
  if (probe.status !== 200) throw new Error(`token endpoint answered ${probe.status}`);
  const bare = await startBareHttp(bodyLength);
  const bareUrl = `http://127.0.0.1:${bare.port}/`;
  const helloUrl = `${base}/health/live`;
  // Warm-up: JIT, connection pools, the service-key and token caches.
  await load(bareUrl, {}, connections);
  await load(helloUrl, {}, connections);
  await load(tokenUrl, auth, connections);
  const samples = { bare: [], hello: [], token: [], hello1: [], token1: [] };
  for (let r = 0; r < rounds; r += 1) {
    samples.bare.push(await withCpu([bare.child.pid], duration, () => load(bareUrl)));
    samples.hello.push(await withCpu([brokerPid], duration, () => load(helloUrl)));
    samples.token.push(await withCpu([brokerPid], duration, () => load(tokenUrl, auth)));
    samples.hello1.push(await sequential(helloUrl));
    samples.token1.push(await sequential(tokenUrl, auth));
    console.error(`token scenario: round ${r + 1}/${rounds} done`);
  }
  await stop(bare.child);
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, medianOf(v)]));
  const commitP50 = await durableCommitP50(databaseUrl, smoke ? 200 : 2_000);
  return {
    bodyLength,
    // A strict audit waits for one commit per read: at one connection the
    // token p50 cannot be below the hello-world's plus this.
    durableCommitP50: commitP50,
    floorVsHelloP50At1: round3((m.hello1.p50 + commitP50) / m.hello1.p50),
    bareHttp: { route: `bare node:http, ${bodyLength}-byte JSON`, connections, ...m.bare },
    hello: { route: 'GET /health/live', connections, ...m.hello },
    token: { route: 'GET /v1/connections/:id/token', connections, ...m.token },
    helloAt1: { route: 'GET /health/live', connections: 1, ...m.hello1 },
    tokenAt1: { route: 'GET /v1/connections/:id/token', connections: 1, ...m.token1 },
    ratios: {
      tokenVsBareHttp: round3(m.token.requestsPerSecond / m.bare.requestsPerSecond),
      tokenVsHello: round3(m.token.requestsPerSecond / m.hello.requestsPerSecond),
      tokenP99VsHelloP99: round3(m.token.p99 / m.hello.p99),
      tokenP50VsHelloP50At1: round3(m.token1.p50 / m.hello1.p50),
    },
  };
}

async function scaleScenario(env, auth, connectionId) {
  const at = port + 1;
  const byCount = [];
  for (const workers of SCALE_COUNTS) {
    const cluster = await startCluster(env, at, workers);
    const url = `http://127.0.0.1:${at}/v1/connections/${connectionId}/token`;
    try {
      await load(url, auth); // warm-up: every worker's JIT and caches
      const samples = [];
      for (let r = 0; r < rounds; r += 1) samples.push(await load(url, auth));
      byCount.push({ processes: workers, ...medianOf(samples) });
    } finally {
      await stop(cluster);
    }
    console.error(`scale-out: ${workers} process(es) done`);
  }
  const one = byCount[0].requestsPerSecond;
  for (const entry of byCount) entry.factor = round3(entry.requestsPerSecond / one);
  return { connections, byCount };
}

async function stormScenario(env, integrationsFile, auth, freshId) {
  const sandbox = track(
    fork(path.join(root, 'bench', 'sandbox.mjs'), {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, SANDBOX_CLIENT_SECRET: `bench-${randomBytes(8).toString('hex')}` },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    }),
    'sandbox',
  );
  const brokers = [];
  try {
    const [ready] = await once(sandbox, 'message');
    const ask = ipc(sandbox);
    const tokenEndpoint = new URL('/token', ready.issuer).href;
    const basic = `Basic ${Buffer.from(`${ready.clientId}:${ready.clientSecret}`).toString('base64')}`;
    await writeFile(
      integrationsFile,
      `${env.BENCH_INTEGRATIONS}  - key: sandbox\n    provider: oidc\n    issuer: ${ready.issuer}\n    clientId: ${ready.clientId}\n    clientSecret: ${ready.clientSecret}\n    scopes: [openid, offline_access, email, profile, contacts.read, companies.read]\n    authorizationParams: { prompt: consent }\n`,
    );
    // One bare refresh call to the sandbox (median of 20, rotating), same client as the storm.
    let refreshToken = (await ask({ type: 'grant' })).tokens.refresh_token;
    const bare = [];
    for (let i = 0; i < 20; i += 1) {
      const started = performance.now();
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      const body = await response.json();
      if (response.status !== 200) throw new Error(`bare refresh: ${response.status}`);
      bare.push(performance.now() - started);
      refreshToken = body.refresh_token;
    }
    const bareRefreshMs = round3(median(bare.slice(5)));
    // The stormed connection and one warm-up connection per broker, all expired, real grants.
    const grants = [];
    for (let i = 0; i <= STORM_BROKERS; i += 1) grants.push((await ask({ type: 'grant' })).tokens);
    const { ids } = await seed(
      env,
      grants.map((t) => ({
        integrationKey: 'sandbox',
        provider: 'oidc',
        tokens: {
          accessToken: t.access_token,
          refreshToken: t.refresh_token,
          expiresAt: new Date(Date.now() - 60_000),
          scopes: t.scope.split(' '),
        },
      })),
    );
    const [stormId, ...warmIds] = ids;
    for (let i = 0; i < STORM_BROKERS; i += 1) {
      // ROLE=api: no sweep, so only token reads refresh.
      brokers.push(await startBroker(env, port + 2 + i, { ROLE: 'api' }));
    }
    const urls = brokers.map((_, i) => `http://127.0.0.1:${port + 2 + i}`);
    // Warm-up: each broker refreshes one other connection (discovery, provider client, JIT).
    await Promise.all(
      urls.map(async (u, i) => {
        const r = await fetch(`${u}/v1/connections/${warmIds[i]}/token`, { headers: auth });
        if (r.status !== 200) throw new Error(`warm-up refresh: ${r.status} ${await r.text()}`);
      }),
    );
    const burst = async (id) => {
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: stormSize }, async (_, i) => {
          const t0 = performance.now();
          const response = await fetch(`${urls[i % urls.length]}/v1/connections/${id}/token`, {
            headers: auth,
          });
          const body = await response.json().catch(() => ({}));
          return { status: response.status, token: body.accessToken, ms: performance.now() - t0 };
        }),
      );
      const latencies = answers.map((a) => a.ms).sort((a, b) => a - b);
      return { answers, latencies, wallMs: performance.now() - started };
    };
    // The same burst for a connection whose token is fresh: what 1,000 concurrent reads cost
    // here without any refresh (connection set-up, audit, the shared cores).
    const fresh = await burst(freshId);
    const before = await ask({ type: 'counters' });
    const { answers, latencies, wallMs } = await burst(stormId);
    const after = await ask({ type: 'counters' });
    const ok = answers.filter((a) => a.status === 200);
    const providerRefreshes = after.counters.refreshGrants - before.counters.refreshGrants;
    const refreshRequests =
      (after.tokenRequests.refresh_token ?? 0) - (before.tokenRequests.refresh_token ?? 0);
    const p50 = round3(percentile(latencies, 50));
    const p99 = round3(percentile(latencies, 99));
    return {
      requests: stormSize,
      brokers: STORM_BROKERS,
      ok: ok.length,
      failures: stormSize - ok.length,
      distinctTokens: new Set(ok.map((a) => a.token)).size,
      providerRefreshes,
      refreshRequestsAtProvider: refreshRequests,
      bareRefreshMs,
      p50,
      p99,
      wallMs: round3(wallMs),
      p50VsBareRefresh: round3(p50 / bareRefreshMs),
      p99VsBareRefresh: round3(p99 / bareRefreshMs),
      freshBurst: {
        ok: fresh.answers.filter((a) => a.status === 200).length,
        p50: round3(percentile(fresh.latencies, 50)),
        p99: round3(percentile(fresh.latencies, 99)),
        wallMs: round3(fresh.wallMs),
      },
    };
  } finally {
    await Promise.all(brokers.map(stop));
    if (sandbox.connected) sandbox.disconnect();
    await stop(sandbox);
  }
}

function verdicts(results) {
  const out = [];
  const check = (name, value) => {
    const target = TARGETS[name];
    if (value === undefined) return;
    let met;
    let text;
    if (target.min !== undefined) [met, text] = [value >= target.min, `≥ ${target.min}`];
    if (target.max !== undefined) [met, text] = [value <= target.max, `≤ ${target.max}`];
    if (target.equals !== undefined) [met, text] = [value === target.equals, `= ${target.equals}`];
    out.push({ name, label: target.label, value, target: text, met });
  };
  for (const [name, value] of Object.entries(results.token?.ratios ?? {})) check(name, value);
  if (results.storm) check('stormProviderRefreshes', results.storm.providerRefreshes);
  if (results.expiry) {
    check('expiryExpiredBeforeRefresh', results.expiry.expiredBeforeRefresh);
    check('expiryPeakVsCap', round3(results.expiry.peakConcurrency / results.expiry.cap));
  }
  if (results.ingest) {
    check('ingestVsPgInsert', results.ingest.vsPgInsert);
    check('ingestPeakRssBigVsSmall', results.ingest.peakRssBigVsSmall);
  }
  return out;
}

function markdown(results) {
  const { token, scale, storm, expiry, ingest } = results;
  const lines = [
    `# Benchmark (${results.when})`,
    '',
    `Commit ${results.commit}, Node ${results.machine.node}, ${results.machine.cpus} CPUs (${results.machine.cpuModel}) shared by the broker, PostgreSQL, Redis and the load generator. Medians of ${results.settings.rounds} round(s) of ${results.settings.durationSeconds} s; \`npm run bench\`.`,
    '',
  ];
  if (token) {
    const row = (r) =>
      `| ${r.route} | ${r.connections} | ${r.requestsPerSecond} | ${r.p50} | ${r.p99} | ${r.failures} |`;
    lines.push(
      '## Token API and its baselines',
      '',
      '| route | connections | req/s | p50 ms | p99 ms | failures |',
      '| --- | --- | --- | --- | --- | --- |',
      row(token.bareHttp),
      row(token.hello),
      row(token.token),
      row(token.helloAt1),
      row(token.tokenAt1),
      `| one durable PostgreSQL commit (pg, prepared 1-row INSERT) | 1 | | ${token.durableCommitP50} | | |`,
      '',
      `A strict audit commits before the token leaves, so at 1 connection the token p50 is at least the hello-world's plus one commit: ${token.floorVsHelloP50At1} × the hello-world's here.`,
      '',
      'CPU per request, µs (all processes on the same cores):',
      '',
      '| route (64 conn.) | server | PostgreSQL | load generator | total |',
      '| --- | --- | --- | --- | --- |',
      ...[token.bareHttp, token.hello, token.token].map((r) => {
        const c = r.cpuUs ?? {};
        const total =
          Math.round(((c.server ?? 0) + (c.postgres ?? 0) + (c.loadGenerator ?? 0)) * 10) / 10;
        return `| ${r.route} | ${c.server} | ${c.postgres} | ${c.loadGenerator} | ${total} |`;
      }),
      '',
    );
  }
  if (results.targets.length) {
    lines.push('| target | value | wanted | met |', '| --- | --- | --- | --- |');
    for (const v of results.targets)
      lines.push(`| ${v.label} | ${v.value} | ${v.target} | ${v.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  if (scale) {
    lines.push(
      `## Scale-out (token API, ${scale.connections} connections, one port, node:cluster)`,
      '',
      '| broker processes | req/s | p50 ms | p99 ms | factor vs 1 | failures |',
      '| --- | --- | --- | --- | --- | --- |',
      ...scale.byCount.map(
        (c) =>
          `| ${c.processes} | ${c.requestsPerSecond} | ${c.p50} | ${c.p99} | ${c.factor} | ${c.failures} |`,
      ),
      '',
    );
  }
  if (storm) {
    lines.push(
      `## Refresh storm (${storm.requests} concurrent token reads of one expired connection over ${storm.brokers} broker processes)`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| answered 200 / distinct tokens handed out | ${storm.ok} / ${storm.distinctTokens} |`,
      `| provider refreshes (successful refresh grants at the sandbox) | ${storm.providerRefreshes} (refresh requests: ${storm.refreshRequestsAtProvider}) |`,
      `| one bare refresh call to the sandbox (median) | ${storm.bareRefreshMs} ms |`,
      `| storm p50 | ${storm.p50} ms = ${storm.p50VsBareRefresh} × bare refresh |`,
      `| storm p99 | ${storm.p99} ms = ${storm.p99VsBareRefresh} × bare refresh |`,
      `| whole storm | ${storm.wallMs} ms |`,
      `| same burst, fresh token (no refresh): p50 / p99 / whole | ${storm.freshBurst.p50} / ${storm.freshBurst.p99} / ${storm.freshBurst.wallMs} ms (${storm.freshBurst.ok} × 200) |`,
      '',
    );
  }
  if (expiry) {
    const k = expiry.knobs;
    const ticks = expiry.sweepTicks.map((t) => `${t.queued} at ${t.atSeconds} s`).join(', ');
    lines.push(
      `## Mass expiry (${expiry.connections} tokens expiring ${expiry.expiryWindowSeconds[0]}-${expiry.expiryWindowSeconds[1]} s after seeding, one worker process; ${expiry.rounds} round)`,
      '',
      `REFRESH_MARGIN_SECONDS=${k.REFRESH_MARGIN_SECONDS}, SWEEP_INTERVAL_SECONDS=${k.SWEEP_INTERVAL_SECONDS}, REFRESH_CONCURRENCY=${k.REFRESH_CONCURRENCY}, REFRESH_INTEGRATION_CONCURRENCY=${k.REFRESH_INTEGRATION_CONCURRENCY}; fake token endpoint answering after ${expiry.providerMs} ms. Times in seconds after seeding.`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| refreshed at the provider / new expiry stored / connections | ${expiry.refreshed} / ${expiry.stored} / ${expiry.connections} |`,
      `| expired before being refreshed | ${expiry.expiredBeforeRefresh} |`,
      `| least life left at refresh (median) | ${expiry.minRemainingSeconds} s (${expiry.medianRemainingSeconds} s); that token expired at ${expiry.worst?.expiresAtSeconds} s, refreshed at ${expiry.worst?.refreshedAtSeconds} s |`,
      `| refreshes/s, first to last refresh | ${expiry.refreshesPerSecond} (${expiry.windowSeconds} s, from ${expiry.firstRefreshSeconds} to ${expiry.lastRefreshSeconds} s) |`,
      `| fake endpoint alone, ${expiry.baseline.concurrency} concurrent callers (baseline) | ${expiry.baseline.refreshesPerSecond} refreshes/s |`,
      `| broker / baseline | ${expiry.vsProvider} |`,
      `| peak concurrent refreshes at the provider / cap | ${expiry.peakConcurrency} / ${expiry.cap} |`,
      `| sweep ticks that queued (connections, when) | ${ticks || 'none'} (worker ready at ${expiry.workerReadySeconds} s) |`,
      `| refreshed twice / rejected at the provider / left not active | ${expiry.refreshedTwice} / ${expiry.rejectedAtProvider} / ${expiry.notActive} |`,
      `| seeding / whole scenario | ${expiry.seedSeconds} s / ${expiry.wallSeconds} s |`,
      '',
    );
  }
  if (ingest) {
    const { big, small, baseline } = ingest;
    lines.push(
      `## Sync ingest (contacts in pages of ${ingest.page}, one worker process per run)`,
      '',
      '| run | records | records/s | seconds | pages | worker RSS idle / peak MB |',
      '| --- | --- | --- | --- | --- | --- |',
      `| sync engine | ${big.records} | ${big.recordsPerSecond} | ${big.seconds} | ${big.pages} | ${big.idleRssMb} / ${big.peakRssMb} |`,
      `| sync engine | ${small.records} | ${small.recordsPerSecond} | ${small.seconds} | ${small.pages} | ${small.idleRssMb} / ${small.peakRssMb} |`,
      `| pg multi-row INSERT of ${baseline.batch} (baseline) | ${baseline.records} | ${baseline.recordsPerSecond} | ${baseline.seconds} | - | - |`,
      '',
      `Sync / baseline: ${ingest.vsPgInsert}; peak RSS ${big.records} / ${small.records}: ${ingest.peakRssBigVsSmall}. Pages/s of the ${big.records} run, second tenth / last tenth: ${big.pagesPerSecondEarly} / ${big.pagesPerSecondLate} (worker RSS by second in latest.json).`,
      '',
    );
  }
  return `${lines.join('\n')}`;
}

async function main() {
  await admin(`CREATE DATABASE "${database}"`);
  let broker;
  try {
    await applyMigrations(databaseUrl);
    const integrations = path.join(tmpdir(), `tb-bench-${stamp}.yaml`);
    const benchIntegration =
      'integrations:\n  - key: bench\n    provider: oauth2\n    clientId: bench\n    clientSecret: bench-secret\n    authorizationUrl: https://auth.bench.invalid/authorize\n    tokenUrl: https://auth.bench.invalid/token\n    scopes: [contacts.read]\n';
    await writeFile(integrations, benchIntegration);
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      HOST: '127.0.0.1',
      ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      INTEGRATIONS_FILE: integrations,
      ALLOW_INSECURE_LOOPBACK_PROVIDERS: 'true',
      SHUTDOWN_DRAIN_SECONDS: '0',
      LOG_LEVEL: 'info',
    };
    const {
      ids: [connectionId],
      key,
    } = await seed(
      env,
      [
        {
          integrationKey: 'bench',
          provider: 'oauth2',
          tokens: {
            accessToken: `at-${randomUUID()}`,
            refreshToken: `rt-${randomUUID()}`,
            expiresAt: new Date(Date.now() + 86_400_000),
          },
        },
      ],
      { withKey: true },
    );
    const auth = { authorization: `Bearer ${key}` };
    let commit = 'unknown';
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })
        .toString()
        .trim();
      if (execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root }).length)
        commit += ' (src/ modified)';
    } catch {}
    const results = {
      when: new Date().toISOString(),
      commit,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
      },
      settings: {
        durationSeconds: duration,
        connections,
        rounds,
        smoke,
        logLevel: 'info',
        audit: 'strict',
      },
    };
    if (scenarios.has('token')) {
      broker = await startBroker(env, port);
      const base = `http://127.0.0.1:${port}`;
      results.token = await tokenScenario(
        env,
        base,
        auth,
        `${base}/v1/connections/${connectionId}/token`,
        broker.pid,
      );
      await stop(broker);
    }
    if (scenarios.has('scale')) results.scale = await scaleScenario(env, auth, connectionId);
    if (scenarios.has('storm'))
      results.storm = await stormScenario(
        { ...env, BENCH_INTEGRATIONS: benchIntegration },
        integrations,
        auth,
        connectionId,
      );
    // What scenarios 4 and 5 use of this file.
    const harness = {
      env,
      smoke,
      rounds,
      duration,
      port,
      dist,
      seed,
      scratch: (name) => scratch(env, name),
      startBroker,
      startWorker,
      stop,
    };
    if (scenarios.has('expiry')) {
      results.expiry = await expiryScenario(harness);
      console.error('mass expiry done');
    }
    if (scenarios.has('ingest')) results.ingest = await ingestScenario(harness);
    results.targets = verdicts(results);
    await mkdir(resultsDir, { recursive: true });
    await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    const md = markdown(results);
    await writeFile(path.join(resultsDir, 'latest.md'), md);
    console.log(md);
    const failed =
      (results.token &&
        [results.token.token, results.token.tokenAt1].some((r) => r.failures > 0)) ||
      results.scale?.byCount.some((c) => c.failures > 0) ||
      (results.storm &&
        (results.storm.failures > 0 ||
          results.storm.distinctTokens !== 1 ||
          results.storm.freshBurst.ok !== results.storm.requests)) ||
      (results.expiry &&
        (results.expiry.expiredBeforeRefresh > 0 ||
          results.expiry.stored !== results.expiry.connections ||
          results.expiry.refreshedTwice > 0 ||
          results.expiry.peakConcurrency > results.expiry.cap)) ||
      (results.ingest && !(results.ingest.big.ok && results.ingest.small.ok));
    if (failed) {
      console.error('bench: failed requests or refreshes (see the table)');
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
  }
}

/**
 * Everything this run made: processes, its databases (the scenarios' too,
 * should one's own clean-up have failed), Redis keys, integrations files.
 */
async function cleanUp() {
  await Promise.all([...children].map(stop));
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $1 || '\\_%'`,
      [database],
    );
    for (const { datname } of rows)
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
  await cleanRedis(redisPrefix);
  for (const file of await readdir(tmpdir()))
    if (file.startsWith(`tb-bench-${stamp}`)) await rm(path.join(tmpdir(), file), { force: true });
}

// Interrupted (Ctrl-C, a CI timeout): clean up before going.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, cleaning up`);
    cleanUp()
      .catch((error) => console.error('bench: clean-up failed', error))
      .finally(() => process.exit(130));
  });
}

main().then(
  () => process.exit(),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
