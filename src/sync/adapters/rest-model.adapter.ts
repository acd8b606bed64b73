import { readPath, readStringPath } from '../../common/json-path.js';
import type { ApiConfig, ModelConfig } from '../../integrations/integrations-file.schema.js';
import type { Checkpoint, FetchedRecord } from '../sync-run.js';
import { nextLink } from './link-header.js';
import {
  type ParsedPage,
  type ProviderResponse,
  type SyncAdapter,
  UnreadablePageError,
} from './sync-adapter.js';

/** Reads one model of a REST API as described in the integrations file. */
export class RestModelAdapter implements SyncAdapter {
  readonly incremental: boolean;
  private readonly base: URL;

  constructor(
    api: ApiConfig,
    private readonly model: ModelConfig,
  ) {
    this.base = new URL(api.baseUrl.replace(/\/+$/, '') + model.path);
    this.incremental = !!(model.updatedSinceParam && model.updatedAtField);
  }

  pageUrl(checkpoint: Checkpoint): URL {
    const p = this.model.pagination;
    if (p.type === 'link' && checkpoint.nextUrl) {
      const url = new URL(checkpoint.nextUrl);
      // Following a link to another host would hand it our bearer token.
      if (url.origin !== this.base.origin)
        throw new UnreadablePageError(`the next link leaves ${this.base.origin}`);
      return url;
    }
    const url = new URL(this.base);
    if (checkpoint.since && this.model.updatedSinceParam)
      url.searchParams.set(this.model.updatedSinceParam, checkpoint.since);
    const limit = 'limit' in p ? p.limit : undefined;
    if (p.limitParam && limit) url.searchParams.set(p.limitParam, String(limit));
    switch (p.type) {
      case 'cursor':
        if (checkpoint.cursor) url.searchParams.set(p.cursorParam, checkpoint.cursor);
        break;
      case 'page':
        url.searchParams.set(p.pageParam, String(checkpoint.page ?? p.firstPage));
        break;
      case 'offset':
        url.searchParams.set(p.offsetParam, String(checkpoint.offset ?? 0));
        break;
      case 'link':
        break;
    }
    return url;
  }

  parse(response: ProviderResponse, checkpoint: Checkpoint): ParsedPage {
    const items = this.model.itemsPath
      ? readPath(response.body, this.model.itemsPath)
      : response.body;
    if (!Array.isArray(items)) {
      throw new UnreadablePageError(`no array at "${this.model.itemsPath ?? '(body)'}"`);
    }
    const records = items.map((item) => this.toRecord(item));
    const maxUpdatedAt = latest(checkpoint.maxUpdatedAt, records);
    return {
      records,
      maxUpdatedAt,
      next: this.nextCheckpoint(response, checkpoint, items.length, {
        since: checkpoint.since,
        maxUpdatedAt,
      }),
    };
  }

  private nextCheckpoint(
    response: ProviderResponse,
    checkpoint: Checkpoint,
    count: number,
    carry: Checkpoint,
  ): Checkpoint | undefined {
    const p = this.model.pagination;
    switch (p.type) {
      case 'cursor': {
        const cursor = readStringPath(response.body, p.nextCursorPath);
        return cursor && count > 0 ? { ...carry, cursor } : undefined;
      }
      case 'page':
        // A short page is the last one.
        return count < p.limit
          ? undefined
          : { ...carry, page: (checkpoint.page ?? p.firstPage) + 1 };
      case 'offset':
        return count < p.limit ? undefined : { ...carry, offset: (checkpoint.offset ?? 0) + count };
      case 'link': {
        const next = nextLink(response.headers.get('link'), this.pageUrl(checkpoint));
        return next ? { ...carry, nextUrl: next.href } : undefined;
      }
    }
  }

  private toRecord(item: unknown): FetchedRecord {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new UnreadablePageError('an item is not a JSON object');
    }
    const externalId = readStringPath(item, this.model.idField);
    if (!externalId) throw new UnreadablePageError(`an item has no "${this.model.idField}"`);
    const record: FetchedRecord = {
      externalId,
      data: item as Record<string, unknown>,
      deleted: this.model.deletedField ? isTruthy(readPath(item, this.model.deletedField)) : false,
    };
    const updated = this.model.updatedAtField
      ? parseTimestamp(readPath(item, this.model.updatedAtField))
      : undefined;
    if (updated) record.providerUpdatedAt = updated;
    return record;
  }
}

function isTruthy(value: unknown): boolean {
  return value === true || value === 'true' || value === 1;
}

/** ISO 8601 strings, or epoch milliseconds (as number or digits). */
export function parseTimestamp(value: unknown): Date | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{11,}$/.test(value))) {
    const date = new Date(Number(value));
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function latest(current: string | undefined, records: FetchedRecord[]): string | undefined {
  let max = current ? new Date(current).getTime() : -Infinity;
  for (const record of records) {
    const at = record.providerUpdatedAt?.getTime();
    if (at !== undefined && at > max) max = at;
  }
  return Number.isFinite(max) ? new Date(max).toISOString() : undefined;
}
