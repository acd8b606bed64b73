import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Prisma } from '../infra/prisma/generated/client.js';
import type { SyncRun as SyncRunRow } from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { syncEvent } from './sync-events.js';
import type { Checkpoint, SyncRun } from './sync-run.js';

export interface SyncState {
  watermark?: string;
  lastFullSyncAt?: Date;
}

@Injectable()
export class SyncRunsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates a queued run, unless one is already queued or running for this
   * connection and model (a partial unique index makes that exclusive): then
   * that one is returned and nothing is created.
   */
  async createOrFindActive(
    connectionId: string,
    model: string,
    trigger: SyncRun['trigger'],
    full: boolean,
  ): Promise<{ run: SyncRun; created: boolean }> {
    try {
      const row = await this.prisma.syncRun.create({
        data: { id: randomUUID(), connectionId, model, trigger, full, status: 'queued' },
      });
      return { run: toRun(row), created: true };
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002')
        throw error;
      const active = await this.prisma.syncRun.findFirst({
        where: { connectionId, model, status: { in: ['queued', 'running'] } },
      });
      if (!active) throw error;
      return { run: toRun(active), created: false };
    }
  }

  async find(id: string): Promise<SyncRun | undefined> {
    const row = await this.prisma.syncRun.findUnique({ where: { id } });
    return row ? toRun(row) : undefined;
  }

  async listForConnection(connectionId: string, limit: number): Promise<SyncRun[]> {
    const rows = await this.prisma.syncRun.findMany({
      where: { connectionId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map(toRun);
  }

  /** Queued and running runs, oldest first. */
  async active(limit: number): Promise<SyncRun[]> {
    const rows = await this.prisma.syncRun.findMany({
      where: { status: { in: ['queued', 'running'] } },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    return rows.map(toRun);
  }

  /**
   * A worker starts (or resumes) the run under a new execution id; returns
   * it as stored, with its checkpoint. From now on only this execution may
   * commit: an older one still going finds out at its next commit.
   */
  async markRunning(id: string, at: Date): Promise<SyncRun | undefined> {
    const executionId = randomUUID();
    const rows = await this.prisma.$queryRaw<SyncRunRow[]>`
      UPDATE sync_runs SET status = 'running', executions = executions + 1,
        started_at = COALESCE(started_at, ${at}), execution_id = ${executionId}::uuid
      WHERE id = ${id}::uuid AND status IN ('queued', 'running')
      RETURNING id`;
    return rows.length ? this.find(id) : undefined;
  }

  /**
   * Stops a queued or running run at once: status `cancelled`. A running
   * execution finds out at its next commit (within one page) and stops;
   * the page it was reading is not written. Undefined: no such run.
   */
  async cancel(
    connectionId: string,
    id: string,
    at: Date,
  ): Promise<{ run: SyncRun; cancelled: boolean } | undefined> {
    const { count } = await this.prisma.syncRun.updateMany({
      where: { id, connectionId, status: { in: ['queued', 'running'] } },
      data: {
        status: 'cancelled',
        finishedAt: at,
      },
    });
    const run = await this.prisma.syncRun.findFirst({ where: { id, connectionId } });
    return run ? { run: toRun(run), cancelled: count === 1 } : undefined;
  }

  /** The run turned out to need everything (its sync token expired): it also finds deletions now. */
  async markFull(id: string): Promise<void> {
    await this.prisma.syncRun.update({ where: { id }, data: { full: true } });
  }

  /**
   * Ends a run as failed, with its sync.failed event; a run already ended,
   * or taken over by another execution, is left alone.
   */
  async fail(
    run: SyncRun,
    errorCode: string,
    errorMessage: string,
    attemptsMade: number,
    at: Date,
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.syncRun.updateMany({
        where: {
          id: run.id,
          status: { in: ['queued', 'running'] },
          ...(run.executionId ? { executionId: run.executionId } : {}),
        },
        data: { status: 'failed', errorCode, errorMessage, attemptsMade, finishedAt: at },
      });
      if (count !== 1) return;
      const connection = await tx.connection.findUnique({
        where: { id: run.connectionId },
        select: { tenantId: true },
      });
      await tx.event.create({
        data: syncEvent('sync.failed', run, connection?.tenantId, { errorCode }),
      });
    });
  }

  async state(connectionId: string, model: string): Promise<SyncState> {
    const row = await this.prisma.syncState.findUnique({
      where: { connectionId_model: { connectionId, model } },
    });
    const state: SyncState = {};
    if (row?.watermark) state.watermark = row.watermark;
    if (row?.lastFullSyncAt) state.lastFullSyncAt = row.lastFullSyncAt;
    return state;
  }
}

function toRun(row: SyncRunRow): SyncRun {
  const run: SyncRun = {
    id: row.id,
    connectionId: row.connectionId,
    model: row.model,
    status: row.status,
    trigger: row.trigger === 'scheduled' ? 'scheduled' : 'manual',
    full: row.full,
    recordsFetched: row.recordsFetched,
    recordsUpserted: row.recordsUpserted,
    recordsDeleted: row.recordsDeleted,
    pages: row.pages,
    executions: row.executions,
    attemptsMade: row.attemptsMade,
    createdAt: row.createdAt,
  };
  if (row.checkpoint) run.checkpoint = row.checkpoint as Checkpoint;
  if (row.executionId) run.executionId = row.executionId;
  if (row.errorCode) run.errorCode = row.errorCode;
  if (row.errorMessage) run.errorMessage = row.errorMessage;
  if (row.startedAt) run.startedAt = row.startedAt;
  if (row.finishedAt) run.finishedAt = row.finishedAt;
  return run;
}
