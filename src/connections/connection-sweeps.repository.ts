import { Injectable } from '@nestjs/common';
import { Prisma } from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { ConnectionStatus } from './connection.js';

/** A position in a keyset walk: the last row's sort value and id. */
export interface WalkCursor {
  at: Date | null;
  id: string;
}

/** One row of a walk: the connection and the value it is ordered by. */
export interface WalkRow {
  id: string;
  at: Date | null;
}

export interface ChangedConnection {
  id: string;
  integrationKey: string;
  status: ConnectionStatus;
  updatedAt: Date;
}

/**
 * The sweeps' reads of the connections table, each a keyset walk served by
 * an index (see the migration refresh_sweep_scale), so a tick costs the rows
 * it returns, not the size of the table: no OFFSET, no full scan, no list of
 * every id in memory.
 */
@Injectable()
export class ConnectionSweepsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Active connections due by expiry, soonest (or longest expired) first:
   * within the margin of expiry, but never more than half the token's
   * lifetime early (refresh-policy.ts applies the same rule). Ordered by
   * (expires_at, id) on the index (status, expires_at, id); `expires_at <=
   * now + margin` bounds the index range, the exact rule filters within it.
   */
  async dueByExpiry(
    integrationKeys: readonly string[],
    now: Date,
    marginSeconds: number,
    after: WalkCursor | undefined,
    limit: number,
  ): Promise<WalkRow[]> {
    if (integrationKeys.length === 0) return [];
    const margin = Prisma.sql`make_interval(secs => ${marginSeconds})`;
    const from = after?.at
      ? Prisma.sql`AND (c.expires_at, c.id) > (${after.at}::timestamptz, ${after.id}::uuid)`
      : Prisma.empty;
    return this.prisma.$queryRaw<WalkRow[]>`
      SELECT c.id, c.expires_at AS at FROM connections c
      WHERE c.status = 'active' AND c.expires_at <= ${now}::timestamptz + ${margin} ${from}
        AND c.integration_key = ANY(${[...integrationKeys]}::text[])
        AND c.expires_at - LEAST(${margin}, (c.expires_at - c.last_refreshed_at) / 2) <= ${now}::timestamptz
        AND ${notCoolingDown(now)} AND ${hasCredentials}
      ORDER BY c.expires_at, c.id
      LIMIT ${limit}`;
  }

  /**
   * Active connections not refreshed since `cutoff` (idle grants, and tokens
   * that never expire), never-refreshed ones first, then the longest idle:
   * ordered by (last_refreshed_at, id) on the index (status,
   * last_refreshed_at, id).
   */
  async dueByIdle(
    integrationKeys: readonly string[],
    now: Date,
    cutoff: Date,
    after: WalkCursor | undefined,
    limit: number,
  ): Promise<WalkRow[]> {
    if (integrationKeys.length === 0) return [];
    const keys = [...integrationKeys];
    const rows: WalkRow[] = [];
    if (!after || after.at === null) {
      const from = after ? Prisma.sql`AND c.id > ${after.id}::uuid` : Prisma.empty;
      rows.push(
        ...(await this.prisma.$queryRaw<WalkRow[]>`
          SELECT c.id, c.last_refreshed_at AS at FROM connections c
          WHERE c.status = 'active' AND c.last_refreshed_at IS NULL ${from}
            AND c.integration_key = ANY(${keys}::text[])
            AND ${notCoolingDown(now)} AND ${hasCredentials}
          ORDER BY c.id
          LIMIT ${limit}`),
      );
      if (rows.length === limit) return rows;
    }
    const from = after?.at
      ? Prisma.sql`AND (c.last_refreshed_at, c.id) > (${after.at}::timestamptz, ${after.id}::uuid)`
      : Prisma.empty;
    rows.push(
      ...(await this.prisma.$queryRaw<WalkRow[]>`
        SELECT c.id, c.last_refreshed_at AS at FROM connections c
        WHERE c.status = 'active' AND c.last_refreshed_at < ${cutoff}::timestamptz ${from}
          AND c.integration_key = ANY(${keys}::text[])
          AND ${notCoolingDown(now)} AND ${hasCredentials}
        ORDER BY c.last_refreshed_at, c.id
        LIMIT ${limit - rows.length}`),
    );
    return rows;
  }

  /**
   * One page of each walk, merged (tests and tools; the sweep walks them
   * page by page itself).
   */
  async dueForRefresh(
    integrationKeys: readonly string[],
    now: Date,
    marginSeconds: number,
    idleSeconds: number,
    limit: number,
  ): Promise<string[]> {
    const cutoff = new Date(now.getTime() - idleSeconds * 1000);
    const [byExpiry, byIdle] = await Promise.all([
      this.dueByExpiry(integrationKeys, now, marginSeconds, undefined, limit),
      this.dueByIdle(integrationKeys, now, cutoff, undefined, limit),
    ]);
    return [...new Set([...byExpiry, ...byIdle].map((row) => row.id))].slice(0, limit);
  }

  /**
   * Connections of the given integrations changed after `after` (any
   * status), in (updated_at, id) order on the index (updated_at, id): what
   * schedule reconciliation looks at between its full passes.
   */
  async changedSince(
    integrationKeys: readonly string[],
    after: WalkCursor,
    limit: number,
  ): Promise<ChangedConnection[]> {
    if (integrationKeys.length === 0) return [];
    return this.prisma.$queryRaw<ChangedConnection[]>`
      SELECT c.id, c.integration_key AS "integrationKey", c.status::text AS status,
             c.updated_at AS "updatedAt"
      FROM connections c
      WHERE (c.updated_at, c.id) > (${after.at ?? new Date(0)}::timestamptz, ${after.id}::uuid)
        AND c.integration_key = ANY(${[...integrationKeys]}::text[])
      ORDER BY c.updated_at, c.id
      LIMIT ${limit}`;
  }

  /** One page of an integration's active connection ids, in id order (full reconciliation). */
  async activeIdsPage(
    integrationKey: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const rows = await this.prisma.connection.findMany({
      where: { integrationKey, status: 'active', ...(afterId && { id: { gt: afterId } }) },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((row) => row.id);
  }

  /** Which of `ids` are active, with their integration. */
  async activeAmong(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.connection.findMany({
      where: { id: { in: [...ids] }, status: 'active' },
      select: { id: true, integrationKey: true },
    });
    return new Map(rows.map((row) => [row.id, row.integrationKey]));
  }
}

/** A connection cooling down after a failure retrying cannot fix soon is left alone until then. */
const notCoolingDown = (now: Date) =>
  Prisma.sql`(c.refresh_retry_at IS NULL OR c.refresh_retry_at <= ${now}::timestamptz)`;

/**
 * An active connection always has credentials; the check keeps a damaged
 * row from being queued every tick (a lookup on the credentials' primary key).
 */
const hasCredentials = Prisma.sql`EXISTS (SELECT 1 FROM credentials cr WHERE cr.connection_id = c.id)`;
