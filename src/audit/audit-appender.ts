import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { AppConfig } from '../config/app-config.js';
import type { AuditEntry } from './audit-entry.js';

/** A server-side bound: a stuck append fails (and the reads waiting on it answer 503) instead of hanging. */
export const AUDIT_STATEMENT_TIMEOUT_MS = 5_000;
/** AuditLog keeps at most this many appends in flight; one spare for a drain at shutdown. */
const POOL_SIZE = 4;

/**
 * One statement per batch, so the batch commits or fails as a whole: the
 * rows travel as one array per column (`unnest`), and the same statement
 * digests them (`audit_event_text`, shared with `audit verify`), moves the
 * chain head and records the batch. The head is a single row: its UPDATE
 * takes a row lock held to commit, so appends from every replica (and the
 * ones this process has in flight) queue behind one another only for that
 * last step, and a waiting UPDATE re-reads the head that the previous one
 * committed (READ COMMITTED re-evaluates on the newest row version), so
 * each batch chains to the one committed before it. The rows themselves are
 * inserted before the lock is taken, concurrently with the other appends.
 */
const APPEND = `
  WITH batch AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('audit_batches', 'id')) AS id
  ), rows AS (
    INSERT INTO audit_events (action, connection_id, tenant_id, service_key_id, request_id,
                              token_fingerprint, detail, created_at, batch_id)
    SELECT u.*, batch.id FROM batch, unnest(
      $1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::jsonb[],
      $8::timestamptz[]
    ) AS u
    RETURNING id, action, connection_id, tenant_id, service_key_id, request_id,
              token_fingerprint, detail, created_at
  ), digest AS (
    SELECT count(*)::int AS n, sha256(convert_to(string_agg(
      audit_event_text(id, action, connection_id, tenant_id, service_key_id, request_id,
                       token_fingerprint, detail, created_at), E'\\n' ORDER BY id), 'UTF8')) AS d
    FROM rows
  ), head AS (
    UPDATE audit_chain_head h
    SET seq = h.seq + 1, prev_hash = h.hash, hash = sha256(h.hash || digest.d)
    FROM digest WHERE h.id = 1
    RETURNING h.seq, h.prev_hash, h.hash
  )
  INSERT INTO audit_batches (id, seq, prev_hash, hash, row_count)
  SELECT batch.id, head.seq, head.prev_hash, head.hash, digest.n FROM batch, head, digest`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The write side of the audit trail, on its own small pool of plain `pg`
 * connections rather than Prisma's: every strict token read waits for one
 * of these statements, so it is a named prepared statement (parsed and
 * planned once per connection, not per batch), it never queues behind a
 * sync's writes in the shared pool, and it carries its own
 * statement_timeout. The read side (paging, verify, purge) stays in
 * AuditRepository.
 */
@Injectable()
export class AuditAppender implements OnApplicationShutdown {
  /** Statements issued (tests count group commits with it). */
  statements = 0;
  private readonly pool: pg.Pool;

  constructor(@Inject(AppConfig) config: Pick<AppConfig, 'databaseUrl'>) {
    this.pool = new pg.Pool({
      connectionString: config.databaseUrl.reveal(),
      max: POOL_SIZE,
      connectionTimeoutMillis: AUDIT_STATEMENT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      application_name: 'token-broker audit',
      statement_timeout: AUDIT_STATEMENT_TIMEOUT_MS,
      // The server's timeout cannot fire when the server is gone (failover,
      // partition, a half-open connection): the client gives up too, a
      // second later, and keepalive finds dead connections in the pool.
      query_timeout: AUDIT_STATEMENT_TIMEOUT_MS + 1_000,
      keepAlive: true,
    });
    // An idle connection dropped by the server (restart, outage) is an
    // 'error' event; without a listener it would end the process. The next
    // append opens a new connection, and its failure is what gets reported.
    this.pool.on('error', () => undefined);
  }

  async recordMany(entries: readonly AuditEntry[]): Promise<void> {
    if (!entries.length) return;
    this.statements += 1;
    const column = <T>(pick: (entry: AuditEntry) => T) => entries.map(pick);
    await this.pool.query({
      name: 'audit_append_v1',
      text: APPEND,
      values: [
        column((e) => e.action),
        column((e) => uuidOrNull(e.connectionId)),
        column((e) => e.tenantId ?? null),
        column((e) => uuidOrNull(e.serviceKeyId)),
        column((e) => e.requestId ?? null),
        column((e) => e.tokenFingerprint ?? null),
        column((e) => (e.detail ? JSON.stringify(e.detail) : null)),
        // ISO strings: pg's own Date formatting (local time) costs more per row.
        column((e) => e.at.toISOString()),
      ],
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

/** Ids from a URL (a refused read) may be anything: only a UUID fits the column. */
function uuidOrNull(value: string | undefined): string | null {
  return value !== undefined && UUID.test(value) ? value.toLowerCase() : null;
}
