import { readPath, readStringPath } from '../../common/json-path.js';
import { isIncremental, type ModelConfig } from '../../providers/api-model.schema.js';
import type { Checkpoint, FetchedRecord } from '../sync-run.js';
import { nextPosition, pageLimit, pageParams, type Position } from './pagination.js';
import { type Feed, fillTemplate, requestSpec, type RequestSpec } from './request-spec.js';
import {
  PaginationLoopError,
  type ParsedPage,
  type ProviderRequest,
  type ProviderResponse,
  type SyncAdapter,
  StaleCursorError,
  SyncTokenExpiredError,
  UnreadablePageError,
} from './sync-adapter.js';
import { formatWatermark, parseTimestamp } from './timestamps.js';

/**
 * Reads one model of a REST API as its description says: full runs page
 * through the main request; incremental runs page through the changes after
 * the watermark (a time, re-slicing past a provider's result window; or an
 * opaque sync token), then through the tombstone feed, if the model has one.
 */
export class RestModelAdapter implements SyncAdapter {
  readonly incremental: boolean;
  readonly watermarkKind: 'time' | 'token';
  private readonly specs: Record<Feed, RequestSpec>;

  constructor(private readonly model: ModelConfig) {
    this.incremental = isIncremental(model);
    this.watermarkKind = model.syncToken ? 'token' : 'time';
    this.specs = {
      full: requestSpec(model, 'full'),
      changes: requestSpec(model, 'changes'),
      deletions: requestSpec(model, 'deletions'),
    };
  }

  start(watermark: string | undefined): Checkpoint {
    if (!this.incremental || !watermark) return {};
    if (this.model.syncToken) return { syncToken: watermark };
    // Changes indexed late at the provider carry times before the watermark:
    // re-reading a window before it loses none (unchanged content is not rewritten).
    const lookBackMs = (this.model.since?.lookBackSeconds ?? 0) * 1000;
    const since = new Date(new Date(watermark).getTime() - lookBackMs).toISOString();
    return { since, maxUpdatedAt: watermark };
  }

  request(checkpoint: Checkpoint, base: string): ProviderRequest {
    const spec = this.specs[feedOf(checkpoint)];
    const rules = {
      staleWhen: this.model.staleCursor,
      // Any page of a run that started from a token may find it expired (a resume days later).
      expiredWhen:
        checkpoint.syncToken && checkpoint.feed !== 'deletions'
          ? this.model.syncToken?.expired
          : undefined,
    };
    const since = this.formattedSince(checkpoint);
    const headers = fillTemplate(spec.headers, since) as Record<string, string>;
    const delta = this.deltaLink(checkpoint);
    const link = checkpoint.nextUrl ?? delta;
    if (link) {
      const url = new URL(link);
      // Following a link to another host would hand it our bearer token; the
      // connection's host may also have moved since the link was stored.
      if (url.origin !== new URL(base).origin) {
        const why = `the ${delta ? 'delta' : "next page's"} URL is not on ${new URL(base).origin}`;
        // A delta link that cannot be used is a sync token that cannot: start over in full.
        throw delta ? new SyncTokenExpiredError(why) : new StaleCursorError(why);
      }
      return { method: 'GET', url, headers, ...rules };
    }
    const url = new URL(base + spec.path);
    for (const [name, value] of Object.entries(spec.query)) {
      url.searchParams.set(name, String(fillTemplate(value, since)));
    }
    const params: Record<string, string | number> = pageParams(spec.pagination, checkpoint);
    const token = this.model.syncToken;
    if (token?.param && checkpoint.syncToken) params[token.param] = checkpoint.syncToken;
    const request: ProviderRequest = { method: spec.method, url, headers, ...rules };
    if (spec.method === 'POST') {
      const template = (spec.body ?? {}) as Record<string, unknown>;
      request.body = { ...(fillTemplate(template, since) as Record<string, unknown>), ...params };
    } else {
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, String(value));
    }
    return request;
  }

  parse(response: ProviderResponse, checkpoint: Checkpoint, request: ProviderRequest): ParsedPage {
    const feed = feedOf(checkpoint);
    const spec = this.specs[feed];
    const items = spec.itemsPath ? readPath(response.body, spec.itemsPath) : response.body;
    // An empty answer (204, 304, a missing or null list) is an empty page, not a failure.
    const list = items === undefined || items === null ? [] : items;
    if (!Array.isArray(list)) {
      throw new UnreadablePageError(`no array at "${spec.itemsPath ?? '(body)'}"`);
    }
    const records = list.map((item) => this.toRecord(item, feed === 'deletions'));
    // Tombstones don't move the watermark: a change made while the run read
    // its changes could carry an earlier time than a later deletion.
    const maxUpdatedAt =
      feed === 'deletions' ? checkpoint.maxUpdatedAt : latest(checkpoint.maxUpdatedAt, records);
    const nextSyncToken = this.model.syncToken
      ? (readStringPath(response.body, this.model.syncToken.nextPath) ?? checkpoint.nextSyncToken)
      : undefined;
    const carry: Checkpoint = {
      ...(checkpoint.since ? { since: checkpoint.since } : {}),
      ...(checkpoint.syncToken ? { syncToken: checkpoint.syncToken } : {}),
      ...(nextSyncToken ? { nextSyncToken } : {}),
      ...(maxUpdatedAt ? { maxUpdatedAt } : {}),
    };
    const position = nextPosition(spec.pagination, response, checkpoint, list.length, request.url);
    return {
      records,
      watermark: this.model.syncToken ? nextSyncToken : maxUpdatedAt,
      next: this.next(spec, checkpoint, carry, position, records),
    };
  }

  private next(
    spec: RequestSpec,
    checkpoint: Checkpoint,
    carry: Checkpoint,
    position: Position | undefined,
    records: FetchedRecord[],
  ): Checkpoint | undefined {
    const feed = feedOf(checkpoint);
    if (position) {
      if (feed === 'deletions') return { ...carry, feed: 'deletions', ...position };
      if (!spec.maxResults) return { ...carry, ...position };
      // The window counts what the provider skips (its offset grows by the
      // page size asked for), not what it returned.
      const limit = pageLimit(spec.pagination) ?? records.length;
      const sliceCount = (checkpoint.sliceCount ?? 0) + Math.max(limit, records.length);
      const sliceMax = latest(checkpoint.sliceMax, records);
      if (sliceCount + limit <= spec.maxResults) {
        return { ...carry, ...position, sliceFrom: checkpoint.sliceFrom, sliceCount, sliceMax };
      }
      return { ...carry, ...this.reslice(checkpoint, sliceMax) };
    }
    if (feed === 'changes' && this.model.deletions) return { ...carry, feed: 'deletions' };
    return undefined;
  }

  /**
   * The provider will not page past its result window: start a new query
   * from the largest `updated at` read in this slice (the filter is
   * inclusive, so records sharing that time are read again, never skipped).
   */
  private reslice(checkpoint: Checkpoint, sliceMax: string | undefined): Checkpoint {
    const from = checkpoint.sliceFrom ?? checkpoint.since;
    if (!sliceMax || (from && sliceMax <= from)) {
      throw new PaginationLoopError(
        `more than ${this.specs.changes.maxResults} records share one modification time; the result window cannot be re-sliced`,
      );
    }
    return { sliceFrom: sliceMax, sliceCount: 0 };
  }

  restart(checkpoint: Checkpoint): Checkpoint {
    const { feed, since, syncToken, sliceFrom, maxUpdatedAt } = checkpoint;
    return {
      ...(feed ? { feed } : {}),
      ...(since ? { since } : {}),
      ...(syncToken ? { syncToken } : {}),
      ...(sliceFrom ? { sliceFrom, sliceCount: 0 } : {}),
      ...(maxUpdatedAt ? { maxUpdatedAt } : {}),
    };
  }

  /** An incremental run's first request, before any position: the one that sends the old token. */
  private firstWithToken(checkpoint: Checkpoint): boolean {
    return (
      !!checkpoint.syncToken &&
      !checkpoint.feed &&
      checkpoint.cursor === undefined &&
      checkpoint.page === undefined &&
      checkpoint.offset === undefined &&
      checkpoint.nextUrl === undefined
    );
  }

  /** A sync token without a parameter is a URL to GET (OData and Graph delta links). */
  private deltaLink(checkpoint: Checkpoint): string | undefined {
    return this.model.syncToken && !this.model.syncToken.param && this.firstWithToken(checkpoint)
      ? checkpoint.syncToken
      : undefined;
  }

  private formattedSince(checkpoint: Checkpoint): string | undefined {
    const since = checkpoint.sliceFrom ?? checkpoint.since;
    return since ? formatWatermark(since, this.model.since?.format ?? 'iso') : undefined;
  }

  private toRecord(item: unknown, tombstone: boolean): FetchedRecord {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new UnreadablePageError('an item is not a JSON object');
    }
    const paths = Array.isArray(this.model.idField) ? this.model.idField : [this.model.idField];
    const externalId = paths.map((path) => readStringPath(item, path)).find(Boolean);
    if (!externalId) throw new UnreadablePageError(`an item has no "${paths.join('" or "')}"`);
    const record: FetchedRecord = {
      externalId,
      data: item as Record<string, unknown>,
      deleted: tombstone || this.isDeleted(item),
    };
    const updated = this.model.updatedAtField
      ? parseTimestamp(readPath(item, this.model.updatedAtField))
      : undefined;
    if (updated) record.providerUpdatedAt = updated;
    return record;
  }

  private isDeleted(item: object): boolean {
    if (!this.model.deletedField) return false;
    const value = readPath(item, this.model.deletedField);
    if (this.model.deletedEquals !== undefined) return value === this.model.deletedEquals;
    return (
      value === true ||
      value === 'true' ||
      value === 1 ||
      (typeof value === 'object' && value !== null)
    );
  }
}

/** The feed a checkpoint reads: tombstones, the changes after a watermark, or everything. */
function feedOf(checkpoint: Checkpoint): Feed {
  if (checkpoint.feed === 'deletions') return 'deletions';
  return checkpoint.since || checkpoint.syncToken ? 'changes' : 'full';
}

function latest(current: string | undefined, records: FetchedRecord[]): string | undefined {
  let max = current ? new Date(current).getTime() : -Infinity;
  for (const record of records) {
    const at = record.providerUpdatedAt?.getTime();
    if (at !== undefined && at > max) max = at;
  }
  return Number.isFinite(max) ? new Date(max).toISOString() : undefined;
}
