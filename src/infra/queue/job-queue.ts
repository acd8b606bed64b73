import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../../common/errors/dependency-errors.js';
import { AppConfig } from '../../config/app-config.js';
import { closeRedis, failFastRedis, readyOrNot } from '../redis/redis.service.js';
import { JOBS, type JobName, type JobPayload, type QueueName } from './jobs.js';

export interface EnqueueOptions {
  /** Deterministic id: enqueueing again while the job exists is a no-op. */
  jobId?: string;
  delayMs?: number;
  attempts?: number;
}

/** Producer side of BullMQ: validated payloads onto the right queue. */
@Injectable()
export class JobQueue implements OnModuleInit, OnApplicationShutdown {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly connection: Redis;
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = `${config.redis.prefix}bull`;
    // Producers run inside requests: fail fast while Redis is away (503), never queue up.
    this.connection = failFastRedis(config.redis.url.reveal());
  }

  onModuleInit(): Promise<void> {
    return readyOrNot(this.connection);
  }

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    options: EnqueueOptions = {},
  ): Promise<void> {
    const job = JOBS[name];
    const data = job.payload.parse(payload);
    const opts: JobsOptions = {
      jobId: options.jobId ?? (job.jobId as ((p: unknown) => string) | undefined)?.(data),
      delay: options.delayMs,
      attempts: options.attempts ?? job.attempts,
      backoff: { type: 'jitter' },
      removeOnComplete: true,
      // A failed job is removed so the next sweep may enqueue it afresh.
      removeOnFail: true,
    };
    this.assertConnected();
    try {
      await this.queue(job.queue).add(name, data, opts);
    } catch (error) {
      throw this.connection.status === 'ready' ? error : new RedisUnavailableError(error);
    }
  }

  /**
   * Many jobs of one name in one round trip (BullMQ addBulk, one MULTI).
   * A job whose deterministic id is already queued is left as it is. A
   * `priority` (1 first) orders the queue, also for jobs that come back
   * from a delay.
   */
  async enqueueBulk<N extends JobName>(
    name: N,
    jobs: readonly { payload: JobPayload<N>; priority?: number }[],
  ): Promise<void> {
    if (jobs.length === 0) return;
    this.assertConnected();
    const job = JOBS[name];
    const jobId = job.jobId as ((p: unknown) => string) | undefined;
    await this.queue(job.queue).addBulk(
      jobs.map(({ payload, priority }) => {
        const data = job.payload.parse(payload);
        return {
          name,
          data,
          opts: {
            jobId: jobId?.(data),
            ...(priority !== undefined && { priority }),
            attempts: job.attempts,
            backoff: { type: 'jitter' },
            removeOnComplete: true,
            removeOnFail: true,
          },
        };
      }),
    );
  }

  /** Jobs of a queue not finished yet: waiting, delayed, prioritized or running. */
  async backlog(queueName: QueueName): Promise<number> {
    const counts = await this.queue(queueName).getJobCounts(
      'waiting',
      'delayed',
      'prioritized',
      'active',
    );
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /**
   * Makes sure a repeating job exists, without touching one that does
   * (re-upserting would restart its interval on every call).
   */
  async ensureScheduler<N extends JobName>(
    id: string,
    everyMs: number,
    name: N,
    payload: JobPayload<N>,
  ): Promise<boolean> {
    const queue = this.queue(JOBS[name].queue);
    const existing = await queue.getJobScheduler(id);
    if (existing && Number(existing.every) === everyMs) return false;
    const data = JOBS[name].payload.parse(payload);
    await queue.upsertJobScheduler(
      id,
      { every: everyMs },
      { name, data, opts: { removeOnComplete: true, removeOnFail: true } },
    );
    return true;
  }

  /** False when there was no such scheduler. */
  async removeScheduler(queueName: QueueName, id: string): Promise<boolean> {
    return this.queue(queueName).removeJobScheduler(id);
  }

  /** One page of a queue's job scheduler ids (positions `start` to `end`, inclusive). */
  async schedulerIds(queueName: QueueName, start: number, end: number): Promise<string[]> {
    const schedulers = await this.queue(queueName).getJobSchedulers(start, end, true);
    return schedulers.map((scheduler) => scheduler.key);
  }

  /**
   * A BullMQ queue made while Redis was away waits for its connection to be
   * ready before each add, however long: a request would hang instead of
   * answering 503. Refuse at once instead.
   */
  private assertConnected(): void {
    if (this.connection.status !== 'ready')
      throw new RedisUnavailableError(new Error(`Redis connection ${this.connection.status}`));
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  // Closed in the last shutdown phase: jobs finishing their step in onModuleDestroy still need it.
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await closeRedis(this.connection);
  }
}
