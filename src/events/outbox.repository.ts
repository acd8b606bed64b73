import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';

/** An outbox event on its way to the webhook. */
export interface OutboxEvent {
  id: string;
  type: string;
  payload: unknown;
  createdAt: Date;
  /** Delivery attempts made before this one. */
  attempts: number;
}

interface ClaimedRow {
  id: bigint;
  type: string;
  payload: unknown;
  created_at: Date;
  attempts: number;
}

const PRUNE_BATCH = 1_000;

/**
 * The delivery side of the events outbox (the writers are the repositories
 * whose transactions cause the events). Claims are leases: a replica that
 * dies mid-delivery leaves its events due again when the lease ends, so
 * delivery is at least once.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Takes up to `limit` due events, oldest first, and hides them from other replicas until `leaseUntil`. */
  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<OutboxEvent[]> {
    const rows = await this.prisma.$queryRaw<ClaimedRow[]>`
      UPDATE events SET next_attempt_at = ${leaseUntil}
      WHERE id IN (
        SELECT id FROM events
        WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at, id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id, type, payload, created_at, attempts`;
    return rows
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((row) => ({
        id: row.id.toString(),
        type: row.type,
        payload: row.payload,
        createdAt: row.created_at,
        attempts: row.attempts,
      }));
  }

  async markDelivered(id: string, at: Date): Promise<void> {
    await this.prisma.event.updateMany({
      where: { id: BigInt(id) },
      data: { deliveredAt: at, attempts: { increment: 1 }, lastError: null },
    });
  }

  async markRetry(id: string, nextAttemptAt: Date, error: string): Promise<void> {
    await this.prisma.event.updateMany({
      where: { id: BigInt(id) },
      data: { nextAttemptAt, attempts: { increment: 1 }, lastError: error },
    });
  }

  async markFailed(id: string, at: Date, error: string): Promise<void> {
    await this.prisma.event.updateMany({
      where: { id: BigInt(id) },
      data: { failedAt: at, attempts: { increment: 1 }, lastError: error },
    });
  }

  /**
   * Deletes events created before `cutoff`, delivered or not. Walks the
   * primary key from the oldest row in small batches (ids grow with
   * creation time), so a table with nothing to prune costs one short scan.
   */
  async pruneCreatedBefore(cutoff: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.prisma.$executeRaw`
        DELETE FROM events
        WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ${PRUNE_BATCH})
          AND created_at < ${cutoff}`;
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }
}
