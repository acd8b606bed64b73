import { Secret } from '../common/secret.js';
import type { AppConfig } from './app-config.js';
import { ConfigError } from './config-error.js';
import { resolveEnvFiles } from './env-files.js';
import { envSchema } from './env.schema.js';

/** Variables that changed name: a deployment still setting the old one is told, not ignored. */
const RENAMED: Record<string, string> = {
  REFRESH_SWEEP_INTERVAL_SECONDS: 'SWEEP_INTERVAL_SECONDS (it paces every sweep, not only refresh)',
};

/** Secrets that may come from a file (`NAME_FILE`) instead of the environment. */
const FILE_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'ENCRYPTION_KEYS',
  'WEBHOOK_SECRET',
  'METRICS_TOKEN',
] as const;

/**
 * Parses the environment once. The first bad variable stops the start with
 * a message naming it; values of secrets are never part of that message.
 */
export function loadConfig(processEnv: NodeJS.ProcessEnv): AppConfig {
  const env = resolveEnvFiles(processEnv, FILE_VARIABLES);
  for (const [old, now] of Object.entries(RENAMED)) {
    if (env[old] !== undefined) throw new ConfigError(`${old}: was renamed ${now}`);
  }
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.') || 'environment';
    const missing = issue.code === 'invalid_type' && env[name] === undefined;
    const problem = missing ? 'is required' : issue.message;
    throw new ConfigError(`${name}: ${problem}`);
  }
  const e = parsed.data;
  return {
    role: e.ROLE,
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: e.PUBLIC_URL,
      ...(e.INTERNAL_PORT !== undefined && {
        internal: { host: e.INTERNAL_HOST ?? e.HOST, port: e.INTERNAL_PORT },
      }),
    },
    ...(e.METRICS_TOKEN !== undefined && { metricsToken: new Secret(e.METRICS_TOKEN) }),
    databaseUrl: new Secret(e.DATABASE_URL),
    redis: { url: new Secret(e.REDIS_URL), prefix: e.REDIS_PREFIX },
    encryptionKeys: e.ENCRYPTION_KEYS,
    integrationsFile: e.INTEGRATIONS_FILE,
    allowedReturnUrls: e.ALLOWED_RETURN_URLS,
    webhook:
      e.WEBHOOK_URL && e.WEBHOOK_SECRET
        ? {
            url: e.WEBHOOK_URL,
            secret: new Secret(e.WEBHOOK_SECRET),
            pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
            timeoutMs: e.PROVIDER_TIMEOUT_MS,
          }
        : undefined,
    eventRetentionDays: e.EVENT_RETENTION_DAYS,
    audit: { mode: e.AUDIT_MODE, retentionDays: e.AUDIT_RETENTION_DAYS },
    sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    logLevel: e.LOG_LEVEL,
    allowInsecureLoopbackProviders: e.ALLOW_INSECURE_LOOPBACK_PROVIDERS,
    connect: { sessionTtlSeconds: e.CONNECT_SESSION_TTL_SECONDS, flowTtlSeconds: 600 },
    tokens: {
      defaultMinValiditySeconds: e.TOKEN_MIN_VALIDITY_SECONDS,
      refreshMarginSeconds: e.REFRESH_MARGIN_SECONDS,
      idleRefreshSeconds: e.REFRESH_IDLE_SECONDS,
      forcedRefreshCooldownSeconds: e.REFRESH_COOLDOWN_SECONDS,
      // A refresh is at most a discovery and a token request, each bounded by the provider timeout.
      lockTtlMs: e.REFRESH_LOCK_TTL_MS ?? 2 * e.PROVIDER_TIMEOUT_MS + 5_000,
      fenceTtlMs: 2 * e.PROVIDER_TIMEOUT_MS + 5_000,
      callerWaitMs: e.PROVIDER_TIMEOUT_MS + 5_000,
      readCache: { size: e.TOKEN_CACHE_SIZE, ttlSeconds: e.TOKEN_CACHE_TTL_SECONDS },
    },
    refreshSweep: {
      concurrency: e.REFRESH_CONCURRENCY,
      integrationConcurrency: e.REFRESH_INTEGRATION_CONCURRENCY,
      maxPerTick: e.REFRESH_SWEEP_MAX_PER_TICK,
    },
    syncSchedulesFullMinutes: e.SYNC_SCHEDULES_FULL_MINUTES,
    sync: {
      concurrency: e.SYNC_CONCURRENCY,
      jobLockMs: e.SYNC_JOB_LOCK_MS,
      fullResyncHours: e.SYNC_FULL_RESYNC_HOURS,
      maxPages: e.SYNC_MAX_PAGES,
      maxRunMinutes: e.SYNC_MAX_RUN_MINUTES,
    },
    providerHttp: {
      timeoutMs: e.PROVIDER_TIMEOUT_MS,
      maxResponseBytes: e.PROVIDER_MAX_RESPONSE_BYTES,
    },
    proxy: { maxBodyBytes: e.PROXY_MAX_BODY_BYTES },
  };
}

/**
 * Once parsed into the config (where they are `Secret`s), the keys leave the
 * environment: nothing later that dumps or inherits `process.env` (a crash
 * reporter, a child process) can carry them.
 */
export function dropParsedSecrets(env: NodeJS.ProcessEnv): void {
  for (const name of ['ENCRYPTION_KEYS', 'WEBHOOK_SECRET', 'METRICS_TOKEN']) delete env[name];
}
