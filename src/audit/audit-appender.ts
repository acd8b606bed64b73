import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { AppConfig } from '../config/app-config.js';
import { encodeEvent, uuidOrNull } from './audit-batch-format.js';
import type { AuditEntry } from './audit-entry.js';

/** A server-side bound: a stuck append fails (and the reads waiting on it answer 503) instead of hanging. */
export const AUDIT_STATEMENT_TIMEOUT_MS = 5_000;
/** AuditLog keeps at most this many appends in flight; one spare for a drain at shutdown. */
const POOL_SIZE = 4;

/**
 * One statement per batch, so the batch commits or fails as a whole: the
 * batch is one row whose `events` text (built here, see audit-batch-format)
 * is stored verbatim. The head is a single row: its UPDATE takes a row lock
 * held to commit, so appends from every replica (and the ones this process
 * has in flight) queue behind one another, and a waiting UPDATE re-reads
 * the head that the previous one committed (READ COMMITTED re-evaluates on
 * the newest row version). So each batch chains to the one committed before
 * it and takes the next contiguous range of event ids; the digest covers
 * the first of them (audit_batch_digest, shared with `audit verify`).
 */
const APPEND = `
  WITH head AS (
    UPDATE audit_chain_head h
    SET seq = h.seq + 1, prev_hash = h.hash,
        hash = sha256(h.hash || audit_batch_digest(2::smallint, h.next_event_id, $1::text)),
        next_event_id = h.next_event_id + $2::int
    WHERE h.id = 1
    RETURNING h.seq, h.prev_hash, h.hash, h.next_event_id
  )
  INSERT INTO audit_batches (seq, prev_hash, hash, row_count, events, format, first_event_id,
                             last_event_id, connection_ids, tenant_ids)
  SELECT seq, prev_hash, hash, $2::int, $1::text, 2, next_event_id - $2::int, next_event_id - 1,
         $3::uuid[], $4::text[]
  FROM head`;

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
    const connections = new Set<string>();
    const tenants = new Set<string>();
    let events = '';
    for (const entry of entries) {
      const connection = uuidOrNull(entry.connectionId);
      if (connection !== null) connections.add(connection);
      if (entry.tenantId !== undefined) tenants.add(entry.tenantId);
      events += events ? `\n${encodeEvent(entry, connection)}` : encodeEvent(entry, connection);
    }
    const result = await this.pool.query({
      name: 'audit_append_v2',
      text: APPEND,
      values: [events, entries.length, [...connections], [...tenants]],
    });
    // No chain head row: the statement inserts nothing and succeeds. That is
    // not a write; the reads waiting on it must fail closed.
    if (result.rowCount !== 1) throw new Error('audit append stored no batch (no chain head row)');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
