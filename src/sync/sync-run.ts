export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Where a run is in the provider's pages; stored with every committed page. */
export interface Checkpoint {
  /** Which request: the model's changes (absent) or, in incremental runs, its tombstone feed. */
  feed?: 'deletions';
  /** The cursor, page number, offset or next URL of the next page to fetch. */
  cursor?: string;
  page?: number;
  offset?: number;
  nextUrl?: string;
  /** Incremental runs: changes after this provider timestamp (the look-back applied; fixed for the run). */
  since?: string;
  /** Incremental runs of a sync-token model: the changes since this token (fixed for the run). */
  syncToken?: string;
  /** The token the provider gave for the next run (on the last page). */
  nextSyncToken?: string;
  /**
   * A provider with a result window (HubSpot search: 10,000): the current
   * slice reads from this timestamp, and has returned `sliceCount` results.
   */
  sliceFrom?: string;
  sliceCount?: number;
  /** Largest `updated at` read in the current slice: where the next slice starts. */
  sliceMax?: string;
  /** Largest provider `updated at` seen so far; the watermark when the run succeeds. */
  maxUpdatedAt?: string;
  /** Every page is committed; only the run's completion is left (a crash there resumes here). */
  done?: true;
  /** With `done`: what the next run starts after. */
  watermark?: string;
}

export interface SyncRun {
  id: string;
  connectionId: string;
  model: string;
  status: SyncRunStatus;
  trigger: 'manual' | 'scheduled';
  full: boolean;
  checkpoint?: Checkpoint;
  recordsFetched: number;
  recordsUpserted: number;
  recordsDeleted: number;
  pages: number;
  executions: number;
  attemptsMade: number;
  /** The execution allowed to commit pages (the latest to start the run). */
  executionId?: string;
  errorCode?: string;
  errorMessage?: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
}

/**
 * This execution may no longer commit: another one took the run over (its
 * job was re-queued after Redis lost it), the run was cancelled, or its
 * connection stopped being active. The transaction that found out rolled
 * back; nothing of this page was written.
 */
export class ExecutionStopped extends Error {
  constructor(readonly runId: string) {
    super('this execution of the run may no longer commit');
  }
}

/** A record as a provider page delivers it, identified and dated by the model's fields. */
export interface FetchedRecord {
  externalId: string;
  data: Record<string, unknown>;
  providerUpdatedAt?: Date;
  deleted: boolean;
}
