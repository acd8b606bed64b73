/**
 * `npm run demo`: the broker (built, in a child process) with the sandbox
 * authorization server and CRM, and the demo app. Needs PostgreSQL and
 * Redis; uses its own database and Redis prefix, and keeps its keys in
 * .demo/ so a restart finds its connections again.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startSandbox } from '../sandbox/sandbox.js';
import { startDemoApp } from './demo-app.js';
import {
  DEMO,
  demoIntegrationsYaml,
  demoServiceKey,
  persistent,
  seedDemoCrm,
  waitForBroker,
} from './demo-setup.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const env = process.env;
const stateDir = path.resolve(env.DEMO_STATE_DIR ?? path.join(root, '.demo'));
const port = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) fail(`${name} must be a port number`);
  return value;
};
const ports = {
  app: port('DEMO_APP_PORT', 5173),
  broker: port('DEMO_BROKER_PORT', 3000),
  auth: port('DEMO_AUTH_PORT', 4010),
  crm: port('DEMO_CRM_PORT', 4011),
};
const databaseUrl = env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/token_broker_demo';
const adminUrl =
  env.DEMO_POSTGRES_ADMIN_URL ??
  (() => {
    const url = new URL(databaseUrl);
    url.pathname = '/postgres';
    return url.toString();
  })();
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisPrefix = env.REDIS_PREFIX ?? 'tb-demo:';
const host = '127.0.0.1';
const brokerUrl = `http://${host}:${ports.broker}`;

let step = 0;
const STEPS = 7;
function progress(message: string): void {
  step += 1;
  process.stdout.write(`[${step}/${STEPS}] ${message}\n`);
}

function fail(message: string): never {
  process.stderr.write(`\nThe demo cannot start: ${message}\n`);
  process.exit(1);
}

const where = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)}`;
};

/** dist/ is current when nothing under src/ is newer than its entry point. */
function buildIsCurrent(): boolean {
  const entry = path.join(root, 'dist/main.js');
  if (!existsSync(entry)) return false;
  const built = statSync(entry).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((item) => {
      const full = path.join(dir, item.name);
      return item.isDirectory() ? newer(full) : statSync(full).mtimeMs > built;
    });
  return !newer(path.join(root, 'src'));
}

async function build(): Promise<void> {
  if (buildIsCurrent()) return progress('broker build is current (dist/)');
  progress('building the broker (nest build, ~10 s)…');
  await run(process.execPath, [path.join(root, 'node_modules/@nestjs/cli/bin/nest.js'), 'build'], {
    cwd: root,
  }).catch((error: { stderr?: string; stdout?: string }) =>
    fail(`the build failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`),
  );
}

async function prepareDatabase(): Promise<void> {
  progress(`PostgreSQL at ${where(databaseUrl)}: database and migrations…`);
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    fail(
      `PostgreSQL is not reachable at ${where(adminUrl)} (${(error as { code?: string }).code ?? (error as Error).message}).\n` +
        'Start it, or point DATABASE_URL (and DEMO_POSTGRES_ADMIN_URL, to create the database) at one that runs.',
    );
  }
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  await run(process.execPath, ['prisma/migrate.mjs', 'deploy'], {
    cwd: root,
    env: { ...env, DATABASE_URL: databaseUrl },
  }).catch((error: Error & { stderr?: string }) =>
    fail(`migrations failed: ${error.stderr || error.message}`),
  );
}

async function checkRedis(): Promise<void> {
  progress(`Redis at ${where(redisUrl)}…`);
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    fail(
      `Redis is not reachable at ${where(redisUrl)} (${(error as Error).message}).\n` +
        'Start it (redis-server), or point REDIS_URL at one that runs.',
    );
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  process.stdout.write('Token Broker demo: the broker, a sandbox CRM and a demo app.\n\n');
  await build();
  await checkRedis();
  await prepareDatabase();

  progress(`sandbox authorization server (:${ports.auth}) and CRM (:${ports.crm})…`);
  const clientSecret = persistent(stateDir, 'sandbox-client-secret', () =>
    randomBytes(24).toString('hex'),
  );
  const encryptionKeys = persistent(
    stateDir,
    'encryption-keys',
    () => `demo:${randomBytes(32).toString('base64')}`,
  );
  const sandbox = await startSandbox({
    redirectUris: [`${brokerUrl}/v1/oauth/callback/${DEMO.integration}`],
    clientSecret,
    authPort: ports.auth,
    crmPort: ports.crm,
    interactive: true,
    // Short tokens, so the page shows the broker refreshing them.
    accessTokenTtlSeconds: 300,
  }).catch((error: Error) =>
    fail(`the sandbox could not listen (${error.message}); set DEMO_AUTH_PORT / DEMO_CRM_PORT`),
  );
  seedDemoCrm(sandbox);
  // Pages take a moment, so a sync's progress is visible.
  sandbox.crm.pageDelayMs = 250;

  const integrationsFile = path.join(stateDir, 'integrations.yaml');
  writeFileSync(integrationsFile, demoIntegrationsYaml(sandbox.auth.issuer, sandbox.crm.baseUrl));
  const appOrigins = [`http://localhost:${ports.app}`, `http://127.0.0.1:${ports.app}`];
  const brokerEnv = {
    ...env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    PUBLIC_URL: brokerUrl,
    HOST: host,
    PORT: String(ports.broker),
    ENCRYPTION_KEYS: encryptionKeys,
    INTEGRATIONS_FILE: integrationsFile,
    ALLOWED_RETURN_URLS: appOrigins.map((origin) => `${origin}/`).join(','),
    ALLOW_INSECURE_LOOPBACK_PROVIDERS: 'true',
    SANDBOX_CLIENT_SECRET: clientSecret,
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
    // No load balancer to drain: Ctrl-C stops it at once.
    SHUTDOWN_DRAIN_SECONDS: '0',
  };

  progress(
    `broker on :${ports.broker} (log: ${path.relative(process.cwd(), path.join(stateDir, 'broker.log')) || 'broker.log'})…`,
  );
  const logFile = path.join(stateDir, 'broker.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const broker = spawn(process.execPath, ['dist/main.js'], {
    cwd: root,
    env: brokerEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  broker.stdout.pipe(log);
  broker.stderr.pipe(log);
  // However this process ends (a failure below, an uncaught error), the broker ends with it.
  process.on('exit', () => {
    if (broker.exitCode === null && broker.signalCode === null) broker.kill('SIGTERM');
  });
  let stopping = false;
  const brokerExited = new Promise<number | null>((resolve) => broker.on('exit', resolve));
  void brokerExited.then(async (code) => {
    if (stopping) return;
    await sandbox.stop();
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
    fail(`the broker exited (code ${code}). The end of ${logFile}:\n${tail}`);
  });
  // From here on, Ctrl-C (or SIGTERM) stops what was started, waiting for the broker to exit.
  const started: { app?: Awaited<ReturnType<typeof startDemoApp>> } = {};
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping the demo app, the broker and the sandbox…\n');
    // The broker's own shutdown deadline ends it well before this.
    const killer = setTimeout(() => broker.kill('SIGKILL'), 15_000);
    broker.kill('SIGTERM');
    await Promise.allSettled([started.app?.stop(), sandbox.stop(), brokerExited]);
    clearTimeout(killer);
    log.end();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  await Promise.race([waitForBroker(brokerUrl), brokerExited.then(() => new Promise(() => {}))]);

  progress('service key for the demo app…');
  const { key: serviceKey, reused } = await demoServiceKey({
    stateDir,
    brokerUrl,
    mint: async () => {
      const { stdout } = await run(
        process.execPath,
        ['dist/cli/main.js', 'keys', 'create', '--name', DEMO.serviceKeyName],
        { cwd: root, env: brokerEnv },
      );
      return stdout.trim();
    },
  });

  progress(`demo app on :${ports.app}…`);
  const app = await startDemoApp({
    port: ports.app,
    host,
    brokerUrl,
    brokerPublicUrl: brokerUrl,
    serviceKey,
    revokeAtCrm: () => sandbox.auth.revokeAllGrants(),
  }).catch((error: Error) =>
    fail(`the demo app could not listen (${error.message}); set DEMO_APP_PORT`),
  );
  started.app = app;

  process.stdout.write(`
Broker API   ${brokerUrl}  (OpenAPI: ${brokerUrl}/docs)
Service key  ${serviceKey}  (${reused ? 'reused from' : 'stored in'} ${path.join(stateDir, 'service-key')})
             curl -H "Authorization: Bearer ${serviceKey}" ${brokerUrl}/v1/connections
Ctrl-C stops everything.

  Demo ready: open ${app.url}  and press "Connect CRM".

`);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
