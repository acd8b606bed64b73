import { AppError, ProviderError } from '../common/errors/app-error.js';
import { PaginationLoopError, UnreadablePageError } from './adapters/sync-adapter.js';
import type { RunStop } from './run-guard.js';

export interface RunContext {
  /** Failed attempts so far, and whether this is the last one BullMQ will make. */
  attemptsMade: number;
  finalAttempt: boolean;
  /** Aborted when the process shuts down: the run stops after the current page. */
  shutdown: AbortSignal;
}

export type RunOutcome = 'succeeded' | 'failed' | 'skipped';

/** Why a run ends without retrying: the same request would fail the same way. */
export class RunFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function stopIf(stop: RunStop | undefined): void {
  if (stop) throw new RunFailure(stop.code, stop.message);
}

/** Failures no retry can fix; the run ends now (and the job completes, so nothing loops). */
export function terminalFailure(error: unknown): { code: string; message: string } | undefined {
  if (error instanceof RunFailure) return { code: error.code, message: error.message };
  if (error instanceof UnreadablePageError)
    return { code: 'provider_response_unreadable', message: error.message };
  if (error instanceof PaginationLoopError)
    return { code: 'pagination_loop', message: error.message };
  if (error instanceof AppError && (error.kind === 'conflict' || error.kind === 'not_found')) {
    // needs_reauth (a dead refresh token), a revoked or deleted connection.
    return { code: error.code, message: error.message };
  }
  if (error instanceof ProviderError && !error.detail.transient)
    return { code: error.code, message: error.message };
  return undefined;
}

/**
 * The next run's watermark: the largest provider time seen, but never past
 * the moment this run started. A record changed while a full run paged
 * (after its own page was read) can carry an earlier time than a record
 * read later; the cap makes the next incremental run read it again.
 */
export function watermarkOf(
  maxUpdatedAt: string | undefined,
  startedAt: Date | undefined,
): string | undefined {
  if (!maxUpdatedAt || !startedAt) return maxUpdatedAt;
  return maxUpdatedAt < startedAt.toISOString() ? maxUpdatedAt : startedAt.toISOString();
}
