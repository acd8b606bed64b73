import { describe, expect, it } from '@jest/globals';
import { type ModelConfig, modelSchema } from '../../providers/api-model.schema.js';
import { nextLink } from './link-header.js';
import { RestModelAdapter } from './rest-model.adapter.js';
import {
  PaginationLoopError,
  type ProviderRequest,
  StaleCursorError,
  SyncTokenExpiredError,
} from './sync-adapter.js';
import { formatWatermark, parseTimestamp } from './timestamps.js';

const BASE = 'https://api.example.com';
const response = (body: unknown, headers: Record<string, string> = {}, status = 200) => ({
  status,
  headers: new Headers(headers),
  body,
});
const model = (input: Record<string, unknown>): ModelConfig =>
  modelSchema.parse({
    path: '/v1/things',
    itemsPath: 'data',
    idField: 'id',
    updatedAtField: 'updated_at',
    ...input,
  });
const items = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: from + i + 1,
    updated_at: `2026-01-0${(i % 9) + 1}T00:00:00.000Z`,
  }));

/** Requests and parses one page. */
function page(
  adapter: RestModelAdapter,
  checkpoint: Parameters<RestModelAdapter['request']>[0],
  body: unknown,
  headers: Record<string, string> = {},
) {
  const request: ProviderRequest = adapter.request(checkpoint, BASE);
  return { request, parsed: adapter.parse(response(body, headers), checkpoint, request) };
}

describe('RestModelAdapter: pagination', () => {
  it('cursor: passes the cursor and limit, stops on an empty cursor', () => {
    const adapter = new RestModelAdapter(
      model({
        pagination: {
          type: 'cursor',
          cursorParam: 'after',
          nextCursorPath: 'paging.next',
          limitParam: 'limit',
          limit: 2,
        },
      }),
    );
    const first = page(adapter, {}, { data: items(2), paging: { next: 'abc' } });
    expect(first.request.url.href).toBe(`${BASE}/v1/things?limit=2`);
    expect(first.parsed.records.map((r) => r.externalId)).toEqual(['1', '2']);
    expect(first.parsed.next).toMatchObject({ cursor: 'abc' });
    const second = page(adapter, first.parsed.next!, { data: items(1), paging: {} });
    expect(second.request.url.searchParams.get('after')).toBe('abc');
    expect(second.parsed.next).toBeUndefined();
  });

  it('page: counts pages from firstPage and stops on a short page, or on hasMorePath', () => {
    const adapter = new RestModelAdapter(
      model({
        pagination: { type: 'page', pageParam: 'p', firstPage: 0, limitParam: 'n', limit: 2 },
      }),
    );
    const first = page(adapter, {}, { data: items(2) });
    expect(first.request.url.searchParams.get('p')).toBe('0');
    expect(first.parsed.next!.page).toBe(1);
    expect(page(adapter, first.parsed.next!, { data: items(1) }).parsed.next).toBeUndefined();

    const flagged = new RestModelAdapter(
      model({
        pagination: {
          type: 'page',
          pageParam: 'page',
          limitParam: 'per_page',
          limit: 2,
          hasMorePath: 'info.more_records',
        },
      }),
    );
    expect(
      page(flagged, {}, { data: items(1), info: { more_records: true } }).parsed.next,
    ).toMatchObject({ page: 2 });
    expect(
      page(flagged, {}, { data: items(2), info: { more_records: false } }).parsed.next,
    ).toBeUndefined();
  });

  it('offset: advances by what was received', () => {
    const adapter = new RestModelAdapter(
      model({ pagination: { type: 'offset', offsetParam: 'o', limitParam: 'n', limit: 3 } }),
    );
    const { parsed } = page(adapter, {}, { data: items(3) });
    expect(adapter.request(parsed.next!, BASE).url.searchParams.get('o')).toBe('3');
  });

  it('link: follows rel="next" on the same origin only', () => {
    const adapter = new RestModelAdapter(
      model({ itemsPath: undefined, pagination: { type: 'link' } }),
    );
    const { parsed } = page(adapter, {}, items(2), {
      link: '</v1/things?page=2>; rel="next", </v1/things?page=9>; rel="last"',
    });
    expect(parsed.next?.nextUrl).toBe(`${BASE}/v1/things?page=2`);
    // Another host is never sent the token: the feed starts over on the connection's own.
    expect(() => adapter.request({ nextUrl: 'https://evil.example/steal' }, BASE)).toThrow(
      StaleCursorError,
    );
  });

  it('next_url: a relative or absolute URL in the body, under a key with dots', () => {
    const adapter = new RestModelAdapter(
      model({
        itemsPath: 'value',
        pagination: { type: 'next_url', nextUrlPath: '@odata.nextLink' },
      }),
    );
    const { parsed } = page(
      adapter,
      {},
      {
        value: items(2),
        '@odata.nextLink': '/v1/things?$skiptoken=X',
      },
    );
    expect(parsed.next?.nextUrl).toBe(`${BASE}/v1/things?$skiptoken=X`);
    expect(adapter.request(parsed.next!, BASE).url.href).toBe(`${BASE}/v1/things?$skiptoken=X`);
    const absolute = page(adapter, {}, { value: [], '@odata.nextLink': `${BASE}/next` });
    expect(absolute.parsed.next?.nextUrl).toBe(`${BASE}/next`);
    expect(page(adapter, {}, { value: items(1) }).parsed.next).toBeUndefined();
    expect(() =>
      adapter.request({ nextUrl: 'https://api.example.com.evil.example/x' }, BASE),
    ).toThrow(/is not on https:\/\/api\.example\.com/);
  });
});

describe('RestModelAdapter: requests', () => {
  it('static query and headers, and a POST body with the cursor and limit in it', () => {
    const adapter = new RestModelAdapter(
      model({
        method: 'POST',
        path: '/v1/things/search',
        itemsPath: 'results',
        query: { archived: 'false' },
        headers: { 'X-Mode': 'fast' },
        body: { sorts: [{ propertyName: 'updated', direction: 'ASCENDING' }] },
        pagination: {
          type: 'cursor',
          cursorParam: 'after',
          nextCursorPath: 'paging.next.after',
          limitParam: 'limit',
          limit: 200,
        },
      }),
    );
    const request = adapter.request({ cursor: '200' }, BASE);
    expect(request.method).toBe('POST');
    expect(request.url.href).toBe(`${BASE}/v1/things/search?archived=false`);
    expect(request.headers).toEqual({ 'X-Mode': 'fast' });
    expect(request.body).toEqual({
      sorts: [{ propertyName: 'updated', direction: 'ASCENDING' }],
      limit: 200,
      after: '200',
    });
  });

  it('empty answers are empty pages: 204, a missing or null list', () => {
    const adapter = new RestModelAdapter(
      model({ pagination: { type: 'cursor', cursorParam: 'c', nextCursorPath: 'next' } }),
    );
    for (const body of [undefined, {}, { data: null }]) {
      const { parsed } = page(adapter, {}, body);
      expect(parsed.records).toEqual([]);
      expect(parsed.next).toBeUndefined();
    }
  });

  it('refuses bodies it cannot read', () => {
    const adapter = new RestModelAdapter(
      model({ pagination: { type: 'cursor', cursorParam: 'c', nextCursorPath: 'next' } }),
    );
    expect(() => page(adapter, {}, { data: 'text' })).toThrow(/no array at "data"/);
    expect(() => page(adapter, {}, { data: [{ name: 'no id' }] })).toThrow(/has no "id"/);
    expect(() => page(adapter, {}, { data: ['text'] })).toThrow(/not a JSON object/);
  });

  it('tombstones are marked deleted', () => {
    const adapter = new RestModelAdapter(
      model({
        deletedField: 'archived',
        pagination: { type: 'cursor', cursorParam: 'c', nextCursorPath: 'next' },
      }),
    );
    const { parsed } = page(adapter, {}, { data: [{ id: 'a', archived: true }, { id: 'b' }] });
    expect(parsed.records.map((r) => [r.externalId, r.deleted])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });
});

describe('RestModelAdapter: incremental runs', () => {
  const soql = (where: string) =>
    `SELECT Id, SystemModstamp FROM Contact${where} ORDER BY SystemModstamp ASC`;
  const salesforceLike = () =>
    new RestModelAdapter(
      model({
        path: '/services/data/v62.0/query',
        itemsPath: 'records',
        idField: 'Id',
        updatedAtField: 'SystemModstamp',
        query: { q: soql('') },
        pagination: { type: 'next_url', nextUrlPath: 'nextRecordsUrl' },
        incremental: { query: { q: soql(' WHERE SystemModstamp > {since}') } },
        deletions: {
          path: '/services/data/v62.0/queryAll',
          query: {
            q: 'SELECT Id FROM Contact WHERE IsDeleted = TRUE AND SystemModstamp > {since}',
          },
        },
        since: { format: 'iso_seconds', lookBackSeconds: 300 },
      }),
    );

  it('a full run has no watermark; an incremental one starts a look-back before it', () => {
    const adapter = salesforceLike();
    expect(adapter.incremental).toBe(true);
    expect(adapter.start(undefined)).toEqual({});
    const start = adapter.start('2026-03-01T10:00:00.500Z');
    expect(start).toEqual({
      since: '2026-03-01T09:55:00.500Z',
      maxUpdatedAt: '2026-03-01T10:00:00.500Z',
    });
    expect(adapter.request({}, BASE).url.searchParams.get('q')).toBe(soql(''));
    expect(adapter.request(start, BASE).url.searchParams.get('q')).toBe(
      soql(' WHERE SystemModstamp > 2026-03-01T09:55:00Z'),
    );
  });

  it('after the changes, the tombstone feed; tombstones do not move the watermark', () => {
    const adapter = salesforceLike();
    const start = adapter.start('2026-03-01T10:00:00.000Z');
    const changes = page(adapter, start, {
      records: [{ Id: '003A', SystemModstamp: '2026-03-02T08:00:00.000+0000' }],
      done: true,
    });
    expect(changes.parsed.records[0]!.providerUpdatedAt?.toISOString()).toBe(
      '2026-03-02T08:00:00.000Z',
    );
    const deletions = changes.parsed.next!;
    expect(deletions).toMatchObject({
      feed: 'deletions',
      maxUpdatedAt: '2026-03-02T08:00:00.000Z',
    });
    const request = adapter.request(deletions, BASE);
    expect(request.url.pathname).toBe('/services/data/v62.0/queryAll');
    expect(request.url.searchParams.get('q')).toContain('SystemModstamp > 2026-03-01T09:55:00Z');
    const tombstones = page(adapter, deletions, {
      records: [{ Id: '003B', SystemModstamp: '2026-03-09T00:00:00.000+0000', IsDeleted: true }],
    });
    expect(tombstones.parsed.records.map((r) => [r.externalId, r.deleted])).toEqual([
      ['003B', true],
    ]);
    expect(tombstones.parsed.watermark).toBe('2026-03-02T08:00:00.000Z');
    expect(tombstones.parsed.next).toBeUndefined();
  });

  it('a full run reads no tombstone feed', () => {
    const { parsed } = page(salesforceLike(), {}, { records: [], done: true });
    expect(parsed.next).toBeUndefined();
  });

  it('a result window is re-sliced from the largest time read, with an inclusive filter', () => {
    const adapter = new RestModelAdapter(
      model({
        path: '/crm/v3/objects/contacts',
        itemsPath: 'results',
        updatedAtField: 'properties.lastmodifieddate',
        pagination: {
          type: 'cursor',
          cursorParam: 'after',
          nextCursorPath: 'paging.next.after',
          limitParam: 'limit',
          limit: 100,
        },
        incremental: {
          method: 'POST',
          path: '/crm/v3/objects/contacts/search',
          body: {
            filterGroups: [
              {
                filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: '{since}' }],
              },
            ],
          },
          pagination: {
            type: 'cursor',
            cursorParam: 'after',
            nextCursorPath: 'paging.next.after',
            limitParam: 'limit',
            limit: 2,
          },
          maxResults: 4,
        },
        since: { format: 'epoch_ms' },
      }),
    );
    const item = (id: string, at: string) => ({ id, properties: { lastmodifieddate: at } });
    const start = adapter.start('2026-01-01T00:00:00.000Z');
    const first = page(adapter, start, {
      results: [item('1', '2026-01-02T00:00:00Z'), item('2', '2026-01-03T00:00:00Z')],
      paging: { next: { after: '2' } },
    });
    expect(first.request.body).toMatchObject({
      filterGroups: [{ filters: [{ value: String(Date.parse('2026-01-01T00:00:00Z')) }] }],
      limit: 2,
    });
    expect(first.request.body).not.toHaveProperty('after');
    expect(first.parsed.next).toMatchObject({ cursor: '2', sliceCount: 2 });
    const second = page(adapter, first.parsed.next!, {
      results: [item('3', '2026-01-04T00:00:00Z'), item('4', '2026-01-05T00:00:00Z')],
      paging: { next: { after: '4' } },
    });
    // The window (4) is full: a new query from the largest time read, cursor reset.
    expect(second.parsed.next).toEqual({
      since: '2026-01-01T00:00:00.000Z',
      maxUpdatedAt: '2026-01-05T00:00:00.000Z',
      sliceFrom: '2026-01-05T00:00:00.000Z',
      sliceCount: 0,
    });
    expect(adapter.request(second.parsed.next!, BASE).body).toMatchObject({
      filterGroups: [{ filters: [{ value: String(Date.parse('2026-01-05T00:00:00Z')) }] }],
    });
    // A slice starts from what it read, not from the run's watermark: a full
    // window inside the look-back is not skipped.
    const inWindow = {
      since: '2025-12-31T23:00:00.000Z', // the watermark, less the look-back
      maxUpdatedAt: '2026-01-01T00:00:00.000Z',
      cursor: '2',
      sliceCount: 2,
    };
    const lookBack = page(adapter, inWindow, {
      results: [item('7', '2025-12-31T23:58:00Z'), item('8', '2025-12-31T23:59:00Z')],
      paging: { next: { after: '4' } },
    });
    expect(lookBack.parsed.next).toMatchObject({ sliceFrom: '2025-12-31T23:59:00.000Z' });
    // A window that cannot move forward is a loop, not an endless re-read.
    const stuck = {
      since: '2026-01-01T00:00:00.000Z',
      sliceFrom: '2026-01-05T00:00:00.000Z',
      sliceCount: 2,
      cursor: '2',
    };
    expect(() =>
      page(adapter, stuck, {
        results: [item('5', '2026-01-05T00:00:00Z'), item('6', '2026-01-05T00:00:00Z')],
        paging: { next: { after: '4' } },
      }),
    ).toThrow(PaginationLoopError);
  });
});

describe('RestModelAdapter: positions that expire', () => {
  it('restart reads the same feed again from its first page, keeping the run state', () => {
    const adapter = new RestModelAdapter(
      model({
        pagination: { type: 'next_url', nextUrlPath: 'next' },
        incremental: { query: { since: '{since}' } },
        deletions: { path: '/v1/deleted' },
        staleCursor: [{ bodyPath: '0.errorCode', equals: 'INVALID_QUERY_LOCATOR' }],
      }),
    );
    expect(
      adapter.restart({
        feed: 'deletions',
        since: 's',
        maxUpdatedAt: 'm',
        nextUrl: `${BASE}/v1/deleted?locator=x`,
      }),
    ).toEqual({ feed: 'deletions', since: 's', maxUpdatedAt: 'm' });
    expect(adapter.restart({ cursor: 'c', sliceFrom: 'f', sliceCount: 400 })).toEqual({
      sliceFrom: 'f',
      sliceCount: 0,
    });
    expect(adapter.request({ nextUrl: `${BASE}/v1/things?l=2` }, BASE).staleWhen).toEqual([
      { bodyPath: '0.errorCode', equals: 'INVALID_QUERY_LOCATOR' },
    ]);
  });

  it('an empty page that still names a next page is followed (ending early would delete the rest)', () => {
    const adapter = new RestModelAdapter(
      model({ pagination: { type: 'cursor', cursorParam: 'c', nextCursorPath: 'next' } }),
    );
    expect(page(adapter, {}, { data: [], next: 'more' }).parsed.next).toMatchObject({
      cursor: 'more',
    });
  });
});

describe('RestModelAdapter: opaque sync tokens', () => {
  const people = () =>
    new RestModelAdapter(
      model({
        path: '/v1/people/me/connections',
        itemsPath: 'connections',
        idField: 'resourceName',
        updatedAtField: undefined,
        deletedField: 'metadata.deleted',
        query: { personFields: 'names', requestSyncToken: 'true' },
        pagination: {
          type: 'cursor',
          cursorParam: 'pageToken',
          nextCursorPath: 'nextPageToken',
          limitParam: 'pageSize',
          limit: 2,
        },
        syncToken: {
          nextPath: 'nextSyncToken',
          param: 'syncToken',
          expired: [
            { status: 400, bodyPath: 'error.details.0.reason', equals: 'EXPIRED_SYNC_TOKEN' },
          ],
        },
      }),
    );
  const person = (n: number, deleted = false) => ({
    resourceName: `people/c${n}`,
    ...(deleted ? { metadata: { deleted: true } } : {}),
  });

  it('a full run keeps the token of its last page as the watermark; the next run sends it on every page', () => {
    const adapter = people();
    expect(adapter).toMatchObject({ incremental: true, watermarkKind: 'token' });
    const first = page(adapter, adapter.start(undefined), {
      connections: [person(1), person(2)],
      nextPageToken: 'p2',
    });
    expect(first.request.url.searchParams.has('syncToken')).toBe(false);
    expect(first.request.expiredWhen).toBeUndefined();
    const last = page(adapter, first.parsed.next!, {
      connections: [person(3)],
      nextSyncToken: 'T1',
    });
    expect(last.parsed).toMatchObject({ watermark: 'T1', next: undefined });

    const changes = adapter.start('T1');
    const changed = page(adapter, changes, { connections: [person(3, true)], nextPageToken: 'q2' });
    expect(changed.request.url.searchParams.get('syncToken')).toBe('T1');
    expect(changed.request.expiredWhen).toHaveLength(1);
    expect(changed.parsed.records[0]).toMatchObject({ externalId: 'people/c3', deleted: true });
    // "all other parameters must match": the token rides along with the page token.
    const second = adapter.request(changed.parsed.next!, BASE);
    expect(second.url.searchParams.get('syncToken')).toBe('T1');
    expect(second.url.searchParams.get('pageToken')).toBe('q2');
    // A later page may find the token expired too (a run resumed days later).
    expect(second.expiredWhen).toHaveLength(1);
  });

  it('an empty account (`{}`) is an empty last page', () => {
    const adapter = people();
    expect(page(adapter, {}, {}).parsed).toMatchObject({ records: [], next: undefined });
  });

  it('a delta link is a URL to GET, on the same origin only', () => {
    const adapter = new RestModelAdapter(
      model({
        path: '/v1.0/me/contacts/delta',
        itemsPath: 'value',
        updatedAtField: undefined,
        deletedField: '@removed',
        pagination: { type: 'next_url', nextUrlPath: '@odata.nextLink' },
        syncToken: { nextPath: '@odata.deltaLink', expired: [{ status: 410 }] },
      }),
    );
    const link = `${BASE}/v1.0/me/contacts/delta?$deltatoken=abc`;
    const request = adapter.request(adapter.start(link), BASE);
    expect(request.url.href).toBe(link);
    const { parsed } = page(adapter, adapter.start(link), {
      value: [{ id: 'x', '@removed': { reason: 'deleted' } }],
      '@odata.deltaLink': `${BASE}/v1.0/me/contacts/delta?$deltatoken=def`,
    });
    expect(parsed.records[0]!.deleted).toBe(true);
    expect(parsed.watermark).toBe(`${BASE}/v1.0/me/contacts/delta?$deltatoken=def`);
    expect(() => adapter.request(adapter.start('https://evil.example/delta'), BASE)).toThrow(
      SyncTokenExpiredError,
    );
  });
});

describe('RestModelAdapter: more shapes', () => {
  it('{since} in a header (If-Modified-Since), and the deleted feed with it', () => {
    const adapter = new RestModelAdapter(
      model({
        pagination: {
          type: 'page',
          pageParam: 'page',
          limitParam: 'per_page',
          limit: 2,
          hasMorePath: 'info.more_records',
        },
        incremental: { headers: { 'If-Modified-Since': '{since}' } },
        deletions: {
          path: '/v1/things/deleted',
          query: { type: 'all' },
          headers: { 'If-Modified-Since': '{since}' },
        },
        since: { format: 'iso_seconds' },
      }),
    );
    const request = adapter.request(adapter.start('2026-01-01T10:00:00.000Z'), BASE);
    expect(request.headers).toEqual({ 'If-Modified-Since': '2026-01-01T10:00:00Z' });
    expect(
      adapter.request({ feed: 'deletions', since: '2026-01-01T10:00:00.000Z' }, BASE).headers,
    ).toEqual({
      'If-Modified-Since': '2026-01-01T10:00:00Z',
    });
  });

  it('page numbers up to a depth, then the page token the provider returned', () => {
    const adapter = new RestModelAdapter(
      model({
        pagination: {
          type: 'page',
          pageParam: 'page',
          limitParam: 'per_page',
          limit: 2,
          hasMorePath: 'info.more_records',
          tokenAfterPages: {
            pages: 2,
            tokenParam: 'page_token',
            nextTokenPath: 'info.next_page_token',
          },
        },
      }),
    );
    const more = (token: string | null) => ({
      data: items(2),
      info: { more_records: true, next_page_token: token },
    });
    const first = page(adapter, {}, more('t2'));
    expect(first.parsed.next).toMatchObject({ page: 2 });
    expect(first.parsed.next).not.toHaveProperty('cursor');
    const second = page(adapter, first.parsed.next!, more('t3'));
    expect(second.request.url.searchParams.get('page')).toBe('2');
    expect(second.parsed.next).toMatchObject({ cursor: 't3' });
    const third = adapter.request(second.parsed.next!, BASE);
    expect(third.url.searchParams.has('page')).toBe(false);
    expect(third.url.searchParams.get('page_token')).toBe('t3');
    expect(() => page(adapter, second.parsed.next!, more(null))).toThrow(/no page token/);
  });

  it('ids from the first path present; deleted when a field equals a value', () => {
    const adapter = new RestModelAdapter(
      model({
        itemsPath: 'value',
        idField: ['contactid', 'id'],
        deletedField: 'reason',
        deletedEquals: 'deleted',
        pagination: { type: 'link' },
      }),
    );
    const { parsed } = page(
      adapter,
      {},
      { value: [{ contactid: 'a' }, { id: 'b', reason: 'deleted' }] },
    );
    expect(parsed.records.map((r) => [r.externalId, r.deleted])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });
});

describe('model descriptions', () => {
  it('need updatedAtField and {since} for incremental runs, and POST for a body', () => {
    const base = { path: '/x', pagination: { type: 'link' } };
    expect(
      modelSchema.safeParse({ ...base, updatedSinceParam: 'since' }).error?.issues[0],
    ).toMatchObject({
      path: ['updatedAtField'],
    });
    expect(
      modelSchema.safeParse({ ...base, updatedAtField: 'u', incremental: { query: { a: 'b' } } })
        .error?.issues[0],
    ).toMatchObject({ path: ['incremental'] });
    expect(modelSchema.safeParse({ ...base, body: { a: 1 } }).error?.issues[0]).toMatchObject({
      path: ['body'],
    });
    expect(
      modelSchema.safeParse({ ...base, headers: { Authorization: 'x' } }).error?.issues[0]?.message,
    ).toMatch(/Authorization/);
    expect(
      modelSchema.safeParse({ ...base, deletions: { path: '/deleted' } }).error?.issues[0],
    ).toMatchObject({ path: ['deletions'] });
    expect(
      modelSchema.safeParse({ ...base, query: { since: '{since}' } }).error?.issues[0],
    ).toMatchObject({ path: ['query'] });
  });
});

describe('helpers', () => {
  it('nextLink reads RFC 8288 headers', () => {
    const base = new URL('https://api.example.com/v1/x');
    expect(nextLink('<https://api.example.com/v1/x?p=2>; rel="next"', base)?.href).toBe(
      'https://api.example.com/v1/x?p=2',
    );
    expect(nextLink('<?p=3>; rel=next', base)?.href).toBe('https://api.example.com/v1/x?p=3');
    expect(nextLink('<https://api.example.com/v1/x?p=1>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(null, base)).toBeUndefined();
  });

  it('parseTimestamp reads ISO strings, +0000 offsets, zone-less times as UTC, and epoch ms', () => {
    const zone = process.env.TZ;
    // A zone-less time must not depend on the server's zone.
    process.env.TZ = 'America/New_York';
    try {
      expect(parseTimestamp('2026-01-01T00:00:00Z')?.toISOString()).toBe(
        '2026-01-01T00:00:00.000Z',
      );
      expect(parseTimestamp('2026-01-01 10:00:00')?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
      expect(parseTimestamp('2026-01-01T10:00:00')?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
      expect(parseTimestamp('2024-01-15T10:30:00.000+0000')?.toISOString()).toBe(
        '2024-01-15T10:30:00.000Z',
      );
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect(parseTimestamp(1767225600000)?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTimestamp('1767225600000')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });

  it('formatWatermark writes each format', () => {
    const at = '2026-01-01T10:00:00.250Z';
    expect(formatWatermark(at, 'iso')).toBe(at);
    expect(formatWatermark(at, 'iso_seconds')).toBe('2026-01-01T10:00:00Z');
    expect(formatWatermark(at, 'epoch_ms')).toBe('1767261600250');
    expect(formatWatermark(at, 'epoch_seconds')).toBe('1767261600');
  });
});
