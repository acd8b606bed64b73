#!/usr/bin/env node
// `npm run bench`: throughput and latency of the token API against a baseline
// measured in the same run on the same server (GET /health/live: no auth, no
// I/O). The broker runs built, in its own process; autocannon drives it from
// this one. Results go to bench/results/latest.{json,md}.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { applyMigrations } from '../prisma/migrate.mjs';

const root = path.resolve(import.meta.dirname, '..');
const dist = (p) => import(path.join(root, 'dist', p));
const adminUrl =
  process.env.BENCH_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const duration = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const port = Number(process.env.BENCH_PORT ?? 3900);
const stamp = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const database = `tb_bench_${stamp}`;
const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${database}`);
const redisPrefix = `tb-bench:${stamp}:`;
const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(root, 'bench', 'results');

async function admin(sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A connection with a token valid for a day, so the token path never refreshes. */
async function seed(env) {
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
  const prisma = new PrismaService({ databaseUrl: new Secret(databaseUrl) });
  const cipher = await TokenCipher.create(parseEncryptionKeys(env.ENCRYPTION_KEYS));
  const repository = new ConnectionsRepository(prisma, new CredentialSealer(cipher));
  const { connection } = await repository.saveGrant({
    tenantId: 'bench-tenant',
    integrationKey: 'bench',
    provider: 'oauth2',
    account: { id: 'bench-account' },
    tokens: {
      accessToken: `at-${randomUUID()}`,
      refreshToken: `rt-${randomUUID()}`,
      tokenType: 'Bearer',
      expiresAt: new Date(Date.now() + 86_400_000),
      scopes: ['contacts.read'],
      extras: {},
    },
    status: 'active',
    at: new Date(),
  });
  const { key } = await new ServiceKeysService(
    new ServiceKeysRepository(prisma),
    new SystemClock(),
  ).create({ name: 'bench' });
  await prisma.$disconnect();
  return { connectionId: connection.id, key };
}

async function waitReady(url) {
  for (let i = 0; i < 100; i += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`broker did not become ready at ${url}`);
}

function load(title, url, headers = {}) {
  return new Promise((resolve, reject) => {
    autocannon({ title, url, headers, connections, duration, pipelining: 1 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

function summarise(result) {
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main() {
  await admin(`CREATE DATABASE "${database}"`);
  let broker;
  try {
    await applyMigrations(databaseUrl);
    const integrations = path.join(tmpdir(), `tb-bench-${stamp}.yaml`);
    await writeFile(
      integrations,
      'integrations:\n  - key: bench\n    provider: oauth2\n    clientId: bench\n    clientSecret: bench-secret\n    authorizationUrl: https://auth.bench.invalid/authorize\n    tokenUrl: https://auth.bench.invalid/token\n    scopes: [contacts.read]\n',
    );
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      INTEGRATIONS_FILE: integrations,
      LOG_LEVEL: 'info',
    };
    const { connectionId, key } = await seed(env);
    // e.g. BENCH_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the time goes.
    const nodeArgs = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    broker = spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    broker.stderr.on('data', (chunk) => (stderr += chunk));
    broker.on('exit', (code) => code && console.error(`broker exited ${code}: ${stderr}`));
    const base = `http://127.0.0.1:${port}`;
    await waitReady(`${base}/health/ready`);
    const auth = { authorization: `Bearer ${key}` };
    const tokenUrl = `${base}/v1/connections/${connectionId}/token`;
    const check = await fetch(tokenUrl, { headers: auth });
    if (check.status !== 200) throw new Error(`token endpoint answered ${check.status}`);
    // Warm-up: JIT, connection pools, the service-key cache.
    await Promise.all(
      Array.from({ length: 200 }, () =>
        fetch(tokenUrl, { headers: auth }).then((r) => r.arrayBuffer()),
      ),
    );

    const baseline = summarise(await load('baseline', `${base}/health/live`));
    const token = summarise(await load('token', tokenUrl, auth));
    const connection = summarise(
      await load('connection', `${base}/v1/connections/${connectionId}`, auth),
    );
    const results = {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      settings: { durationSeconds: duration, connections, logLevel: 'info' },
      baseline: { route: 'GET /health/live', ...baseline },
      token: { route: 'GET /v1/connections/:id/token (fresh token, no refresh)', ...token },
      connection: { route: 'GET /v1/connections/:id', ...connection },
      ratios: {
        tokenVsBaseline: +(token.requestsPerSecond / baseline.requestsPerSecond).toFixed(3),
        connectionVsBaseline: +(connection.requestsPerSecond / baseline.requestsPerSecond).toFixed(
          3,
        ),
      },
    };
    await mkdir(resultsDir, { recursive: true });
    await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    const row = (name, r) =>
      `| ${name} | ${r.requestsPerSecond} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.non2xx + r.errors} |`;
    const md = [
      `# Benchmark (${results.when})`,
      '',
      `${connections} connections, ${duration} s per route, broker and load generator sharing ${results.machine.cpus} cores, Node ${process.version}.`,
      '',
      '| route | req/s | p50 ms | p99 ms | failures |',
      '| --- | --- | --- | --- | --- |',
      row(results.baseline.route, baseline),
      row(results.token.route, token),
      row(results.connection.route, connection),
      '',
      `Token API at ${(results.ratios.tokenVsBaseline * 100).toFixed(1)}% of the baseline's throughput.`,
      '',
    ].join('\n');
    await writeFile(path.join(resultsDir, 'latest.md'), md);
    console.log(md);
    if (token.non2xx || token.errors) process.exitCode = 1;
  } finally {
    broker?.kill('SIGTERM');
    await sleep(500);
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

main().then(
  () => process.exit(),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
