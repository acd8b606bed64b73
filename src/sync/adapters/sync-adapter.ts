import type { Checkpoint, FetchedRecord } from '../sync-run.js';

export interface ProviderResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface ParsedPage {
  records: FetchedRecord[];
  /** The checkpoint of the following page; undefined when this was the last. */
  next?: Checkpoint;
  /** Largest provider `updated at` of the run so far, this page included. */
  maxUpdatedAt?: string;
}

/**
 * How one model of one provider API is paged and read. The generic REST
 * adapter covers anything the integrations file can describe; providers
 * whose APIs need code implement the same interface.
 */
export interface SyncAdapter {
  /** The URL of the page a checkpoint points at (the first page for a fresh run). */
  pageUrl(checkpoint: Checkpoint): URL;
  parse(response: ProviderResponse, checkpoint: Checkpoint): ParsedPage;
  /** Whether this model can fetch only what changed after a watermark. */
  readonly incremental: boolean;
}

/** The provider answered something the model's description cannot read. */
export class UnreadablePageError extends Error {
  override readonly name = 'UnreadablePageError';
}
