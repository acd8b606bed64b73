import { Global, Module } from '@nestjs/common';
import { JobQueue } from './job-queue.js';
import { JobWorkers } from './job-workers.js';

@Global()
@Module({ providers: [JobQueue, JobWorkers], exports: [JobQueue, JobWorkers] })
export class QueueModule {}
