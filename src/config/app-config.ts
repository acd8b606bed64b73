import type { Secret } from '../common/secret.js';
import type { EncryptionKey } from './encryption-keys.js';

export type Role = 'api' | 'worker' | 'all';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The typed configuration of one process, parsed once at start from the
 * environment. The rest of the code reads this, never `process.env`.
 */
export abstract class AppConfig {
  abstract readonly role: Role;
  abstract readonly http: {
    readonly host: string;
    readonly port: number;
    /** The broker's external base URL, without a trailing slash. */
    readonly publicUrl: string;
    /**
     * The second listener, when configured: service routes (and /metrics,
     * /admin) answer only there, browser routes only on the public one.
     */
    readonly internal?: { readonly host: string; readonly port: number };
  };
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  abstract readonly metricsToken?: Secret;
  abstract readonly databaseUrl: Secret;
  abstract readonly redis: { readonly url: Secret; readonly prefix: string };
  abstract readonly encryptionKeys: readonly EncryptionKey[];
  abstract readonly integrationsFile: string;
  abstract readonly allowedReturnUrls: readonly URL[];
  /** Where events are POSTed; undefined: they stay in the outbox until pruned. */
  abstract readonly webhook:
    | {
        readonly url: string;
        readonly secret: Secret;
        /** How often a worker looks for due events; 0 turns delivery off (tests drive it). */
        readonly pollIntervalMs: number;
        readonly timeoutMs: number;
      }
    | undefined;
  /** Events (delivered or not) older than this are deleted. */
  abstract readonly eventRetentionDays: number;
  abstract readonly audit: {
    /** strict: a token read waits for its audit row (503 when it cannot be written). */
    readonly mode: 'strict' | 'best-effort';
    /** Audit batches older than this are purged by the retention sweep. */
    readonly retentionDays: number;
  };
  /** The sweeps' base interval; 0 disables them (tests drive them by hand). */
  abstract readonly sweepIntervalSeconds: number;
  /** On SIGTERM, readiness answers 503 this long before the listeners close. */
  abstract readonly shutdownDrainSeconds: number;
  abstract readonly logLevel: LogLevel;
  abstract readonly allowInsecureLoopbackProviders: boolean;
  abstract readonly connect: {
    readonly sessionTtlSeconds: number;
    readonly flowTtlSeconds: number;
  };
  abstract readonly tokens: {
    readonly defaultMinValiditySeconds: number;
    /** Proactive refresh happens this long before expiry. */
    readonly refreshMarginSeconds: number;
    /** Grants not refreshed for this long are refreshed anyway (keeps idle grants alive). */
    readonly idleRefreshSeconds: number;
    readonly forcedRefreshCooldownSeconds: number;
    /** Lifetime of the cross-replica refresh lock. */
    readonly lockTtlMs: number;
    /**
     * Lifetime of the database refresh fence: long enough that a refresh
     * that took it has certainly finished or been aborted when it lapses.
     */
    readonly fenceTtlMs: number;
    /**
     * The longest an HTTP caller waits for a refresh (retries, Retry-After,
     * another replica's refresh) before a 503 with Retry-After: one provider
     * timeout plus five seconds.
     */
    readonly callerWaitMs: number;
    /**
     * The token read's cache of sealed connections (per process): entries,
     * 0 for none, and how long one may live when an invalidation is lost.
     */
    readonly readCache: { readonly size: number; readonly ttlSeconds: number };
  };
  abstract readonly refreshSweep: {
    /** Proactive refresh jobs one worker process runs at once. */
    readonly concurrency: number;
    /** Proactive refreshes of one integration in flight at once, across all workers. */
    readonly integrationConcurrency: number;
    /** Connections one sweep tick may queue, oldest due first. */
    readonly maxPerTick: number;
  };
  /** Schedule reconciliation visits every connection this often; in between, only changed ones. */
  abstract readonly syncSchedulesFullMinutes: number;
  abstract readonly sync: {
    /** Runs one worker process executes at once. */
    readonly concurrency: number;
    /**
     * How long a run's job stays locked without a heartbeat; a crashed
     * worker's run is picked up again after about this long.
     */
    readonly jobLockMs: number;
    /** A run is full (deletion detection) when the last full one is older than this; 0: only when asked. */
    readonly fullResyncHours: number;
    /**
     * Budgets of one run of one model (a model may set lower ones): no
     * provider and no description can make a run page forever.
     */
    readonly maxPages: number;
    readonly maxRunMinutes: number;
  };
  abstract readonly providerHttp: {
    readonly timeoutMs: number;
    readonly maxResponseBytes: number;
  };
  /** The API proxy (`/v1/proxy/…`). */
  abstract readonly proxy: {
    readonly maxBodyBytes: number;
  };
}
