import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AuthModule } from '../auth/auth.module.js';
import { AppConfig } from '../config/app-config.js';
import { JobQueue } from '../infra/queue/job-queue.js';
import { JOBS } from '../infra/queue/jobs.js';
import { ServiceKeysService } from '../auth/service-keys.service.js';
import { ADMIN_QUEUES_PATH, adminGate } from './admin-gate.js';
import { AdminSessionController } from './admin-session.controller.js';
import { AdminSessionsStore } from './admin-sessions.store.js';

const QUEUE_NAMES = [...new Set(Object.values(JOBS).map((job) => job.queue))];

/**
 * The queue dashboard (Bull Board, its Fastify adapter) at /admin/queues over
 * the broker's own BullMQ queues, behind the admin gate.
 *
 * Why not @bull-board/nestjs: it is CommonJS that require()s Nest 12's
 * ESM-only packages, which Jest's ESM runtime refuses; its work is the two
 * calls below, made at module init, before Nest registers its routes.
 */
@Module({
  imports: [AuthModule],
  controllers: [AdminSessionController],
  providers: [AdminSessionsStore],
  exports: [AdminSessionsStore],
})
export class AdminModule implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    private readonly queues: JobQueue,
    private readonly keys: ServiceKeysService,
    private readonly sessions: AdminSessionsStore,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const board = new FastifyAdapter();
    board.setBasePath(ADMIN_QUEUES_PATH);
    createBullBoard({
      queues: QUEUE_NAMES.map((name) => new BullMQAdapter(this.queues.queue(name))),
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'Token Broker' } },
    });
    const gate = adminGate({
      keys: this.keys,
      sessions: this.sessions,
      internalOnly: this.config.http.internal !== undefined,
    });
    // The gate inside the board's own scope: it guards exactly the board's routes.
    void fastify.register(
      async (scope) => {
        scope.addHook('onRequest', gate);
        await scope.register(board.registerPlugin());
      },
      { prefix: ADMIN_QUEUES_PATH },
    );
  }
}
