import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { AppConfig } from '../../config/app-config.js';
import { JOBS, type JobName, type JobPayload, type QueueName } from './jobs.js';

export interface EnqueueOptions {
  /** Deterministic id: enqueueing again while the job exists is a no-op. */
  jobId?: string;
  delayMs?: number;
  attempts?: number;
}

/** Producer side of BullMQ: validated payloads onto the right queue. */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly connection: Redis;
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = `${config.redis.prefix}bull`;
    this.connection = new Redis(config.redis.url.reveal(), {
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
    });
    this.connection.on('error', () => undefined);
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
    await this.queue(job.queue).add(name, data, opts);
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

  async removeScheduler(queueName: QueueName, id: string): Promise<void> {
    await this.queue(queueName).removeJobScheduler(id);
  }

  async schedulerIds(queueName: QueueName): Promise<string[]> {
    const schedulers = await this.queue(queueName).getJobSchedulers(0, -1);
    return schedulers.map((scheduler) => scheduler.key);
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
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
