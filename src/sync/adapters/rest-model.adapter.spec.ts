import { describe, expect, it } from '@jest/globals';
import type { ApiConfig, ModelConfig } from '../../integrations/integrations-file.schema.js';
import { nextLink } from './link-header.js';
import { parseTimestamp, RestModelAdapter } from './rest-model.adapter.js';
import { UnreadablePageError } from './sync-adapter.js';

const api: ApiConfig = { baseUrl: 'https://api.example.com/', models: {} };
const response = (body: unknown, headers: Record<string, string> = {}) => ({
  status: 200,
  headers: new Headers(headers),
  body,
});
const model = (
  pagination: ModelConfig['pagination'],
  extra: Partial<ModelConfig> = {},
): ModelConfig => ({
  path: '/v1/things',
  itemsPath: 'data',
  idField: 'id',
  updatedAtField: 'updated_at',
  updatedSinceParam: 'since',
  pagination,
  ...extra,
});
const items = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: from + i + 1,
    updated_at: `2026-01-0${(i % 9) + 1}T00:00:00.000Z`,
  }));

describe('RestModelAdapter', () => {
  it('cursor: passes the cursor and limit, stops on an empty cursor', () => {
    const adapter = new RestModelAdapter(
      api,
      model({
        type: 'cursor',
        cursorParam: 'after',
        nextCursorPath: 'paging.next',
        limitParam: 'limit',
        limit: 2,
      }),
    );
    expect(adapter.pageUrl({}).href).toBe('https://api.example.com/v1/things?limit=2');
    const first = adapter.parse(response({ data: items(2), paging: { next: 'abc' } }), {});
    expect(first.records.map((r) => r.externalId)).toEqual(['1', '2']);
    expect(first.next).toMatchObject({ cursor: 'abc' });
    expect(adapter.pageUrl(first.next!).searchParams.get('after')).toBe('abc');
    expect(
      adapter.parse(response({ data: items(1), paging: {} }), first.next!).next,
    ).toBeUndefined();
  });

  it('page: counts pages from firstPage and stops on a short page', () => {
    const adapter = new RestModelAdapter(
      api,
      model({ type: 'page', pageParam: 'p', firstPage: 0, limitParam: 'n', limit: 2 }),
    );
    expect(adapter.pageUrl({}).searchParams.get('p')).toBe('0');
    const next = adapter.parse(response({ data: items(2) }), {}).next!;
    expect(next.page).toBe(1);
    expect(adapter.parse(response({ data: items(1) }), next).next).toBeUndefined();
  });

  it('offset: advances by what was received', () => {
    const adapter = new RestModelAdapter(
      api,
      model({ type: 'offset', offsetParam: 'o', limitParam: 'n', limit: 3 }),
    );
    const next = adapter.parse(response({ data: items(3) }), {}).next!;
    expect(adapter.pageUrl(next).searchParams.get('o')).toBe('3');
  });

  it('link: follows rel="next" on the same origin only', () => {
    const adapter = new RestModelAdapter(api, model({ type: 'link' }, { itemsPath: undefined }));
    const page = adapter.parse(
      response(items(2), {
        link: '</v1/things?page=2>; rel="next", </v1/things?page=9>; rel="last"',
      }),
      {},
    );
    expect(page.next?.nextUrl).toBe('https://api.example.com/v1/things?page=2');
    expect(() => adapter.pageUrl({ nextUrl: 'https://evil.example/steal' })).toThrow(
      UnreadablePageError,
    );
  });

  it('incremental: sends the watermark and carries the largest updated-at', () => {
    const adapter = new RestModelAdapter(
      api,
      model({ type: 'cursor', cursorParam: 'c', nextCursorPath: 'next' }),
    );
    expect(adapter.incremental).toBe(true);
    expect(adapter.pageUrl({ since: '2026-01-01T00:00:00.000Z' }).searchParams.get('since')).toBe(
      '2026-01-01T00:00:00.000Z',
    );
    const page = adapter.parse(response({ data: items(3), next: 'x' }), {
      since: 's',
      maxUpdatedAt: '2026-01-02T00:00:00.000Z',
    });
    expect(page.maxUpdatedAt).toBe('2026-01-03T00:00:00.000Z');
    expect(page.next).toMatchObject({ since: 's', maxUpdatedAt: '2026-01-03T00:00:00.000Z' });
  });

  it('tombstones are marked deleted', () => {
    const adapter = new RestModelAdapter(
      api,
      model(
        { type: 'cursor', cursorParam: 'c', nextCursorPath: 'next' },
        { deletedField: 'archived' },
      ),
    );
    const page = adapter.parse(response({ data: [{ id: 'a', archived: true }, { id: 'b' }] }), {});
    expect(page.records.map((r) => [r.externalId, r.deleted])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('refuses bodies it cannot read', () => {
    const adapter = new RestModelAdapter(
      api,
      model({ type: 'cursor', cursorParam: 'c', nextCursorPath: 'next' }),
    );
    expect(() => adapter.parse(response({ results: [] }), {})).toThrow(/no array at "data"/);
    expect(() => adapter.parse(response({ data: [{ name: 'no id' }] }), {})).toThrow(/has no "id"/);
    expect(() => adapter.parse(response({ data: ['text'] }), {})).toThrow(/not a JSON object/);
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

  it('parseTimestamp reads ISO strings and epoch milliseconds', () => {
    expect(parseTimestamp('2026-01-01T00:00:00Z')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTimestamp(1767225600000)?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTimestamp('1767225600000')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });
});
