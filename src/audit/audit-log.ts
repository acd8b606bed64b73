import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { UnavailableError } from '../common/errors/app-error.js';
import { ThrottledLog } from '../common/logging/throttled-log.js';
import { AppConfig } from '../config/app-config.js';
import type { AuditEntry } from './audit-entry.js';
import { AuditAppender } from './audit-appender.js';

/** Beyond this many unwritten rows (database slow or down), new ones are refused or given up. */
const MAX_PENDING = 10_000;
/** Events per append: one statement, one chained batch row. */
const BATCH = 500;
/**
 * Appends in flight at once, per process. One: the appends of a replica
 * would queue on the chain head's row lock anyway, and measured at 64
 * connections (npm run bench, token scenario) one in flight made bigger
 * batches and cost PostgreSQL 28 µs a read against 62 µs with three
 * (12,383 req/s against 8,234; p99 10 ms against 15). With one row per
 * batch it still wins: two in flight cost PostgreSQL 14–17 µs a read
 * against 8–9, and the broker more (smaller batches, more statements).
 */
const MAX_IN_FLIGHT = 1;

interface Pending {
  entry: AuditEntry;
  /** Set for a caller that waits for the commit (strict token reads). */
  settle?: { resolve: () => void; reject: (error: unknown) => void };
}

export function auditUnavailable(cause?: unknown): UnavailableError {
  return new UnavailableError(
    'audit_unavailable',
    'The audit trail cannot be written; no token is handed out unaudited. Retry shortly',
    { cause },
  );
}

/**
 * The audit trail, group-committed. A record starts an append at once when
 * fewer than MAX_IN_FLIGHT are running; otherwise it waits, with every
 * record that arrives meanwhile, for the next free one, and they go
 * together in one append. Under load each statement carries every request
 * that arrived during the previous round trip, and a request pays about one
 * round trip, never a queue of them.
 *
 * `record` (AUDIT_MODE=strict) resolves once the row is committed and
 * rejects with `audit_unavailable` when it cannot be: the token read awaits
 * it, so no token leaves unaudited (fails closed). With best-effort it
 * resolves at once and rows that cannot be written are given up and
 * counted in a throttled log line. `recordInBackground` is for actions that
 * already happened (a worker's refresh, a disconnect): it never waits.
 */
@Injectable()
export class AuditLog implements OnModuleDestroy {
  private readonly logger = new Logger(AuditLog.name);
  private readonly failures = new ThrottledLog();
  private readonly givenUpLog = new ThrottledLog();
  private readonly strict: boolean;
  private pending: Pending[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** An append has started but not yet taken its rows: new records join it. */
  private gathering = false;
  private givenUp = 0;

  constructor(
    private readonly appender: AuditAppender,
    config: AppConfig,
  ) {
    this.strict = config.audit.mode === 'strict';
  }

  /** Strict: resolves when the row is committed, rejects `audit_unavailable` when it cannot be. */
  record(entry: AuditEntry): Promise<void> {
    if (!this.strict) {
      this.recordInBackground(entry);
      return Promise.resolve();
    }
    if (this.pending.length >= MAX_PENDING) return Promise.reject(auditUnavailable());
    const promise = new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, settle: { resolve, reject } });
    });
    this.schedule();
    return promise;
  }

  /** Written with the next batch; nobody waits, a failure is counted and logged. */
  recordInBackground(entry: AuditEntry): void {
    if (this.pending.length >= MAX_PENDING) {
      this.giveUp(1);
      return;
    }
    this.pending.push({ entry });
    this.schedule();
  }

  /** Resolves once everything recorded so far is written (or given up on). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all(this.inFlight);
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
    if (this.givenUp) this.logGivenUp(0);
  }

  private schedule(): void {
    if (this.gathering || this.inFlight.size >= MAX_IN_FLIGHT) return;
    this.gathering = true;
    const append: Promise<void> = this.append().finally(() => {
      this.inFlight.delete(append);
      if (this.pending.length) this.schedule();
    });
    this.inFlight.add(append);
  }

  private async append(): Promise<void> {
    // Let the current tick's records join this statement.
    await Promise.resolve();
    this.gathering = false;
    const batch = this.pending.splice(0, BATCH);
    if (!batch.length) return;
    if (this.pending.length) this.schedule();
    try {
      await this.appender.recordMany(batch.map((item) => item.entry));
    } catch (error) {
      const failure = auditUnavailable(error);
      let unwaited = 0;
      for (const item of batch) {
        if (item.settle) item.settle.reject(failure);
        else unwaited += 1;
      }
      this.failures.maybe((suppressed) =>
        this.logger.error({
          err: error,
          rows: batch.length,
          suppressed,
          msg: 'audit rows could not be written',
        }),
      );
      if (unwaited) this.giveUp(unwaited);
      return;
    }
    for (const item of batch) item.settle?.resolve();
  }

  private giveUp(rows: number): void {
    this.givenUp += rows;
    this.givenUpLog.maybe((suppressed) => this.logGivenUp(suppressed));
  }

  private logGivenUp(suppressed: number): void {
    this.logger.error({
      rows: this.givenUp,
      suppressed,
      msg: 'audit rows given up (best-effort or background): these actions have no audit row',
    });
    this.givenUp = 0;
  }
}
