import { readPath, readStringPath } from '../../common/json-path.js';
import type { PaginationConfig } from '../../providers/api-model.schema.js';
import type { Checkpoint } from '../sync-run.js';
import { nextLink } from './link-header.js';
import { type ProviderResponse, UnreadablePageError } from './sync-adapter.js';

/** Where in the provider's pages a checkpoint points. */
export type Position = Pick<Checkpoint, 'cursor' | 'page' | 'offset' | 'nextUrl'>;

/** The page size a pagination asks for, when it asks for one. */
export function pageLimit(p: PaginationConfig): number | undefined {
  return 'limit' in p ? p.limit : undefined;
}

/** The parameters that select the page at `position` (query string, or body of a POST). */
export function pageParams(
  p: PaginationConfig,
  position: Position,
): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  const limit = pageLimit(p);
  if (p.limitParam && limit) params[p.limitParam] = limit;
  switch (p.type) {
    case 'cursor':
      if (position.cursor) params[p.cursorParam] = position.cursor;
      break;
    case 'page':
      // Past the numbered pages, the provider's token alone selects the page.
      if (position.cursor && p.tokenAfterPages)
        params[p.tokenAfterPages.tokenParam] = position.cursor;
      else params[p.pageParam] = position.page ?? p.firstPage;
      break;
    case 'offset':
      params[p.offsetParam] = position.offset ?? 0;
      break;
    case 'link':
    case 'next_url':
      break;
  }
  return params;
}

/**
 * The position of the page after this one, or undefined when this was the
 * last: no cursor or link, a short page, or `hasMorePath` saying so. An
 * empty page that still names a next page is followed: ending early would
 * make a full run mark every record not yet read as deleted (a repeated
 * position is caught by RunGuard, endless pages by the run's budgets).
 */
export function nextPosition(
  p: PaginationConfig,
  response: ProviderResponse,
  position: Position,
  count: number,
  requestUrl: URL,
): Position | undefined {
  switch (p.type) {
    case 'cursor': {
      const cursor = readStringPath(response.body, p.nextCursorPath);
      return cursor ? { cursor } : undefined;
    }
    case 'page': {
      if (!hasMore(p.hasMorePath, response, count, p.limit)) return undefined;
      const page = (position.page ?? p.firstPage) + 1;
      const switchAt = p.tokenAfterPages && p.firstPage + p.tokenAfterPages.pages;
      if (!switchAt || page < switchAt) return { page };
      const token = readStringPath(response.body, p.tokenAfterPages!.nextTokenPath);
      // More records, and no way to ask for them: ending here would lose them.
      if (!token) throw new UnreadablePageError('more pages are announced, but no page token');
      return { page, cursor: token };
    }
    case 'offset':
      if (!hasMore(p.hasMorePath, response, count, p.limit)) return undefined;
      return { offset: (position.offset ?? 0) + count };
    case 'link': {
      const next = nextLink(response.headers.get('link'), requestUrl);
      return next ? { nextUrl: next.href } : undefined;
    }
    case 'next_url': {
      const next = readStringPath(response.body, p.nextUrlPath);
      // Relative (Salesforce `/services/data/…`) or absolute (OData); same origin is checked when followed.
      return next ? { nextUrl: new URL(next, requestUrl).href } : undefined;
    }
  }
}

function hasMore(
  path: string | undefined,
  response: ProviderResponse,
  count: number,
  limit: number,
): boolean {
  if (path) {
    const flag = readPath(response.body, path);
    return flag === true || flag === 'true';
  }
  // A short page is the last one.
  return count >= limit;
}
