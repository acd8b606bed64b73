import { z } from 'zod';
import { parseEncryptionKeys } from './encryption-keys.js';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgresql:// URL');

const redisUrl = z
  .string()
  .url()
  .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// or rediss:// URL');

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL');

const urlList = z.string().transform((value, ctx) => {
  const urls: URL[] = [];
  for (const item of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    try {
      const url = new URL(item);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
      urls.push(url);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an http(s) URL` });
      return z.NEVER;
    }
  }
  return urls;
});

const encryptionKeys = z.string().transform((value, ctx) => {
  try {
    return parseEncryptionKeys(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Every environment variable the service reads, with its default where it has one. */
export const envSchema = z
  .object({
    DATABASE_URL: postgresUrl,
    REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'use 1-64 of A-Z a-z 0-9 : _ -')
      .default('tb:'),
    PUBLIC_URL: httpUrl.transform((value) => value.replace(/\/+$/, '')),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    // A second listener for the service routes (README "Internal listener"); unset: one listener.
    INTERNAL_HOST: z.string().min(1).optional(),
    INTERNAL_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    ROLE: z.enum(['api', 'worker', 'all']).default('all'),
    ENCRYPTION_KEYS: encryptionKeys,
    INTEGRATIONS_FILE: z.string().min(1),
    ALLOWED_RETURN_URLS: urlList.default([]),
    WEBHOOK_URL: httpUrl.optional(),
    WEBHOOK_SECRET: z
      .string()
      .min(16, 'must be at least 16 characters')
      .refine(
        (value) =>
          !value.startsWith('whsec_') ||
          (/^[A-Za-z0-9+/]+={0,2}$/.test(value.slice(6)) &&
            Buffer.from(value.slice(6), 'base64').length >= 16),
        'a whsec_ secret must be base64 of at least 16 bytes',
      )
      .optional(),
    WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
    // At least the 72 h in which undelivered events are retried.
    EVENT_RETENTION_DAYS: z.coerce.number().int().min(4).max(3650).default(30),
    /** strict: a token leaves only once its audit row is committed; best-effort: never waits. */
    AUDIT_MODE: z.enum(['strict', 'best-effort']).default('strict'),
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    ALLOW_INSECURE_LOOPBACK_PROVIDERS: booleanString.default(false),
    CONNECT_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(1800).default(1800),
    TOKEN_MIN_VALIDITY_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    /** Connections (sealed) the token read keeps in memory per process; 0 turns the cache off. */
    TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
    TOKEN_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    REFRESH_MARGIN_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
    REFRESH_IDLE_SECONDS: z.coerce
      .number()
      .int()
      .min(3600)
      .max(30 * 86_400)
      .default(86_400),
    /** The worker's sweeps' base interval (refresh, revocations, schedules…); 0 turns them off. */
    SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    // How long readiness says 503 before the listeners close (a load balancer's reaction time).
    SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(0).max(60).default(2),
    REFRESH_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    /** Proactive refresh jobs one worker process runs at once. */
    REFRESH_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(32),
    /** Proactive refreshes of one integration in flight at once, across all workers. */
    REFRESH_INTEGRATION_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(20),
    /** Connections one refresh sweep tick may queue (oldest due first). */
    REFRESH_SWEEP_MAX_PER_TICK: z.coerce.number().int().min(1_000).max(1_000_000).default(50_000),
    /** Schedule reconciliation looks at every connection this often; in between, only at changed ones. */
    SYNC_SCHEDULES_FULL_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(60),
    SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    SYNC_JOB_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
    SYNC_FULL_RESYNC_HOURS: z.coerce
      .number()
      .int()
      .min(0)
      .max(24 * 30)
      .default(24),
    SYNC_MAX_PAGES: z.coerce.number().int().min(1).max(10_000_000).default(50_000),
    SYNC_MAX_RUN_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(720),
    REFRESH_LOCK_TTL_MS: z.coerce.number().int().min(100).max(600_000).optional(),
    PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    PROVIDER_MAX_RESPONSE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(5 * 1024 * 1024),
    /** Largest request body the API proxy forwards (streamed; the rest of the API takes 64 KiB). */
    PROXY_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(10 * 1024 * 1024),
  })
  .superRefine((env, ctx) => {
    if (env.INTERNAL_HOST !== undefined && env.INTERNAL_PORT === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['INTERNAL_PORT'],
        message: 'is required when INTERNAL_HOST is set',
      });
    }
    if (
      env.INTERNAL_PORT !== undefined &&
      env.INTERNAL_PORT !== 0 &&
      env.INTERNAL_PORT === env.PORT
    ) {
      ctx.addIssue({ code: 'custom', path: ['INTERNAL_PORT'], message: 'must differ from PORT' });
    }
    if (env.WEBHOOK_URL && !env.WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SECRET'],
        message: 'is required when WEBHOOK_URL is set',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;
