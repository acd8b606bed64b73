import type { AnswerRule } from '../../providers/api-model.schema.js';
import type { Checkpoint, FetchedRecord } from '../sync-run.js';

/** One request to a provider's API, before the token is added. */
export interface ProviderRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  /** JSON, for POST. */
  body?: unknown;
  /** Answers that say the stored position (a query locator, a page token) expired. */
  staleWhen?: readonly AnswerRule[];
  /** Answers that say the sync token this run started from expired. */
  expiredWhen?: readonly AnswerRule[];
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
  /**
   * What the next run starts after, as of this page: the largest provider
   * `updated at` so far, or the provider's sync token.
   */
  watermark?: string;
}

/**
 * How one model of one provider API is paged and read. The REST adapter
 * covers anything a model description can say; the same interface would
 * take code for an API that descriptions cannot capture.
 */
export interface SyncAdapter {
  /** Whether this model can fetch only what changed after a watermark. */
  readonly incremental: boolean;
  /** A provider time (capped at the run's start) or an opaque sync token (kept as given). */
  readonly watermarkKind: 'time' | 'token';
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

/** The sync token a run started from has expired at the provider: the run becomes a full one. */
export class SyncTokenExpiredError extends Error {
  override readonly name = 'SyncTokenExpiredError';
}
