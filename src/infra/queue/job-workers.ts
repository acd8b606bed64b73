import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DelayedError, type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fullJitterDelayMs } from '../../common/backoff.js';
import { ThrottledLog } from '../../common/logging/throttled-log.js';
import { AppConfig } from '../../config/app-config.js';
import { closeRedis } from '../redis/redis.service.js';
import { JobQueue } from './job-queue.js';
import {
  JOBS,
  type JobName,
  type JobPayload,
  missingHandlers,
  type QueueName,
  queueTuning,
} from './jobs.js';

/**
 * A job handler. `shutdown` aborts when the process is stopping: long jobs
 * check it between steps and throw RetryLater(0) to hand the job back.
 */
export type JobHandler<N extends JobName> = (
  payload: JobPayload<N>,
  job: Job,
  shutdown: AbortSignal,
) => Promise<unknown>;

/** Thrown by a handler to wait (e.g. a provider's Retry-After) without spending an attempt. */
export class RetryLater extends Error {
  constructor(readonly delayMs: number) {
    super(`retry in ${delayMs} ms`);
  }
}

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;

/**
 * Consumer side of BullMQ. Processors register one handler per job name;
 * the payload is validated again here, so a malformed job fails instead of
 * reaching a service.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JobWorkers.name);
  private readonly handlers = new Map<JobName, JobHandler<JobName>>();
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];
  private readonly stopping = new AbortController();
  private readonly outageLog = new ThrottledLog();

  constructor(
    private readonly config: AppConfig,
    private readonly queue: JobQueue,
  ) {}

  register<N extends JobName>(name: N, handler: JobHandler<N>): void {
    this.handlers.set(name, handler as JobHandler<JobName>);
    const queueName = JOBS[name].queue;
    if (this.workers.some((worker) => worker.name === queueName)) return;
    this.start(queueName);
  }

  /** A worker process that lacks a handler for a job would leave it queued forever: refuse to start. */
  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    const missing = missingHandlers(new Set(this.handlers.keys()));
    if (missing.length) throw new Error(`no handler registered for job(s) ${missing.join(', ')}`);
  }

  private start(queueName: QueueName): void {
    const tuning = queueTuning(this.config)[queueName];
    // Workers block on their connection; BullMQ requires maxRetriesPerRequest null.
    // Reconnect at least once a second: work resumes soon after Redis is back.
    const connection = new Redis(this.config.redis.url.reveal(), {
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    });
    connection.on('error', () => undefined);
    this.connections.push(connection);
    const worker = new Worker(queueName, (job, token) => this.process(job, token), {
      connection,
      prefix: this.queue.prefix,
      ...tuning,
      settings: {
        backoffStrategy: (attemptsMade) =>
          fullJitterDelayMs(attemptsMade, BACKOFF_BASE_MS, BACKOFF_CAP_MS),
      },
    });
    worker.on('error', (error) => {
      // Redis away: BullMQ reports every reconnect attempt; one line, then one per 30 s.
      if (connection.status !== 'ready') {
        this.outageLog.maybe((suppressed) =>
          this.logger.warn({
            errorCode: 'redis_unavailable',
            suppressed,
            msg: 'Redis is unreachable; workers wait for it',
          }),
        );
        return;
      }
      this.logger.error({ err: error, queue: queueName, msg: 'worker error' });
    });
    worker.on('failed', (job, error) =>
      this.logger.warn({
        err: error,
        job: job?.name,
        jobId: job?.id,
        attempts: job?.attemptsMade,
        msg: 'job failed',
      }),
    );
    this.workers.push(worker);
  }

  private async process(job: Job, token: string | undefined): Promise<unknown> {
    const name = job.name as JobName;
    const handler = this.handlers.get(name);
    const definition = JOBS[name];
    if (!handler || !definition) throw new Error(`no handler for job "${job.name}"`);
    const payload = definition.payload.parse(job.data);
    try {
      return await handler(payload, job, this.stopping.signal);
    } catch (error) {
      if (error instanceof RetryLater) {
        await job.moveToDelayed(Date.now() + error.delayMs, token);
        throw new DelayedError();
      }
      throw error;
    }
  }

  async onModuleDestroy(): Promise<void> {
    // Long jobs stop after their current step; close() waits for them to hand back.
    this.stopping.abort();
    // With Redis away nothing can be handed back, and a graceful close would
    // wait for Redis forever: close without waiting. A job in flight then ends
    // with this process; its lock expires and another worker resumes it from
    // its checkpoint (PostgreSQL fences the two executions).
    const redisAway = this.connections.some((connection) => connection.status !== 'ready');
    if (redisAway)
      this.logger.warn({ msg: 'Redis is unreachable at shutdown; workers close without waiting' });
    await Promise.all(this.workers.map((worker) => worker.close(redisAway)));
    await Promise.all(this.connections.map(closeRedis));
  }
}
