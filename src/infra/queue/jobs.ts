import { z } from 'zod';
import type { AppConfig } from '../../config/app-config.js';

interface JobDefinition<P extends z.ZodType> {
  queue: QueueNameLiteral;
  payload: P;
  /** Deterministic id: enqueueing again while the job exists adds nothing. */
  jobId?: (payload: z.infer<P>) => string;
  /** Attempts before the job fails for good (retries back off with full jitter). */
  attempts: number;
}

type QueueNameLiteral = 'refresh' | 'maintenance' | 'revocation' | 'sync';

const job = <P extends z.ZodType>(definition: JobDefinition<P>) => definition;

/**
 * Every background job: its name (`area.verb`), its queue, its payload
 * schema (checked again when a worker picks the job up), its id and its
 * attempts. Payloads carry ids, never tokens.
 */
export const JOBS = {
  'refresh.connection': job({
    queue: 'refresh',
    payload: z.strictObject({ connectionId: z.string().uuid() }),
    jobId: ({ connectionId }) => `refresh-${connectionId}`,
    attempts: 8,
  }),
  'credentials.reencrypt': job({
    queue: 'maintenance',
    payload: z.strictObject({}),
    jobId: () => 'reencrypt-credentials',
    attempts: 8,
  }),
  'revocation.deliver': job({
    queue: 'revocation',
    payload: z.strictObject({
      revocationId: z.string().uuid(),
      // Who asked for it (a disconnect's key and request), for the delivery's audit row
      // only: loosely checked, so that they can never keep a revocation off the queue.
      serviceKeyId: z.string().max(64).optional(),
      requestId: z.string().max(200).optional(),
    }),
    jobId: ({ revocationId }) => `revoke-${revocationId}`,
    attempts: 8,
  }),
  // Its id names the (connection, model) pair, which the payload does not
  // carry: callers pass syncJobId(…).
  'sync.run': job({
    queue: 'sync',
    payload: z.strictObject({ syncRunId: z.string().uuid() }),
    attempts: 5,
  }),
  'sync.schedule': job({
    queue: 'sync',
    payload: z.strictObject({ connectionId: z.string().uuid(), model: z.string().min(1) }),
    attempts: 8,
  }),
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;
export type QueueName = (typeof JOBS)[JobName]['queue'];

/** How a queue's worker detects jobs of a crashed process (see BullMQ "stalled jobs"). */
export interface WorkerTuning {
  concurrency: number;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
}

/** Each queue's worker, in one place. */
export function queueTuning(
  config: Pick<AppConfig, 'sync' | 'refreshSweep'>,
): Record<QueueName, WorkerTuning> {
  return {
    // Most of a refresh is waiting on the provider; the per-integration cap
    // (IntegrationSlots) is what protects a provider, not this.
    refresh: { concurrency: config.refreshSweep.concurrency },
    revocation: { concurrency: 8 },
    // Re-encryption walks every row: one at a time is plenty.
    maintenance: { concurrency: 1 },
    // A crashed worker's run is taken over within SYNC_JOB_LOCK_MS. BullMQ
    // moves a job back once its lock has expired and one stalled check has
    // seen it unrenewed, then the next check finds it still so: that is up to
    // lockDuration + 2 × stalledInterval after the crash (with both at the
    // setting, twice the setting was measured). Half and a quarter keep the
    // worst case at about three quarters of the setting; the lock is renewed
    // every quarter. A run may crash many times and still resume from its
    // checkpoint.
    sync: {
      concurrency: config.sync.concurrency,
      lockDuration: Math.round(config.sync.jobLockMs / 2),
      stalledInterval: Math.round(config.sync.jobLockMs / 4),
      maxStalledCount: 100,
    },
  };
}

/** Job names a worker process has no handler for (it refuses to start). */
export function missingHandlers(registered: ReadonlySet<string>): JobName[] {
  return (Object.keys(JOBS) as JobName[]).filter((name) => !registered.has(name));
}
