import type { Checkpoint, FetchedRecord } from '../sync-run.js';

/** One request to a provider's API, before the token is added. */
export interface ProviderRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  /** JSON, for POST. */
  body?: unknown;
  /** An answer that says the stored position (a query locator, a page token) has expired. */
  staleWhen?: StaleCursorRule;
}

export interface StaleCursorRule {
  status?: number;
  bodyPath: string;
  equals: string;
}

export interface ProviderResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON; undefined for an empty answer (204, 304, no body). */
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
 * How one model of one provider API is paged and read. The REST adapter
 * covers anything a model description can say; the same interface would
 * take code for an API that descriptions cannot capture.
 */
export interface SyncAdapter {
  /** Whether this model can fetch only what changed after a watermark. */
  readonly incremental: boolean;
  /** Where a fresh run starts: everything, or the changes after `watermark`. */
  start(watermark: string | undefined): Checkpoint;
  /** The request of the page a checkpoint points at, on the connection's API base URL. */
  request(checkpoint: Checkpoint, base: string): ProviderRequest;
  parse(response: ProviderResponse, checkpoint: Checkpoint, request: ProviderRequest): ParsedPage;
  /** The same feed from its first page (its position expired or moved host). */
  restart(checkpoint: Checkpoint): Checkpoint;
}

/** The provider answered something the model's description cannot read. */
export class UnreadablePageError extends Error {
  override readonly name = 'UnreadablePageError';
}

/** The provider (or the model's description) would page forever: the run ends now. */
export class PaginationLoopError extends Error {
  override readonly name = 'PaginationLoopError';
}

/**
 * The provider no longer knows the stored position (Salesforce query
 * locators expire; a next link points at a host the connection left): the
 * feed is read again from its first page.
 */
export class StaleCursorError extends Error {
  override readonly name = 'StaleCursorError';
}
