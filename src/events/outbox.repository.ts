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

  /**
   * Takes up to `limit` due events, oldest first, and hides them from other
   * replicas until `leaseUntil`. An event never attempted and older than
   * `windowMs` (written before webhooks were turned on) is not taken: turning
   * them on does not replay history. Its age is measured on the database's
   * clock, which also wrote its created_at.
   */
  async claimDue(
    now: Date,
    leaseUntil: Date,
    windowMs: number,
    limit: number,
  ): Promise<OutboxEvent[]> {
    const rows = await this.prisma.$queryRaw<ClaimedRow[]>`
      UPDATE events SET next_attempt_at = ${leaseUntil}
      WHERE id IN (
        SELECT id FROM events
        WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ${now}
          AND (attempts > 0 OR created_at > now() - make_interval(secs => ${windowMs / 1000}))
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

  /** Ends the lease of claimed events that were not attempted (shutdown), without counting an attempt. */
  async release(ids: readonly string[], now: Date): Promise<void> {
    if (!ids.length) return;
    await this.prisma.event.updateMany({
      where: { id: { in: ids.map((id) => BigInt(id)) }, deliveredAt: null },
      data: { nextAttemptAt: now },
    });
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
