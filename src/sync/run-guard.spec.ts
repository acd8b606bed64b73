import { describe, expect, it } from '@jest/globals';
import { RunGuard } from './run-guard.js';
import type { FetchedRecord } from './sync-run.js';

const records = (...ids: string[]): FetchedRecord[] =>
  ids.map((externalId) => ({ externalId, data: {}, deleted: false }));
const budget = { maxPages: 5, maxRunMinutes: 10 };
const start = new Date('2026-01-01T00:00:00Z');

describe('RunGuard', () => {
  it('stops a cursor or next link that repeats one already given', () => {
    const guard = new RunGuard(budget, start, 0, {});
    expect(guard.afterPage(records('1'), {}, { cursor: 'a' })).toBeUndefined();
    expect(guard.afterPage(records('2'), { cursor: 'a' }, { cursor: 'b' })).toBeUndefined();
    expect(guard.afterPage(records('3'), { cursor: 'b' }, { cursor: 'a' })).toMatchObject({
      code: 'pagination_loop',
    });
    const links = new RunGuard(budget, start, 0, { nextUrl: 'https://x/p2' });
    expect(
      links.afterPage(records('1'), { nextUrl: 'https://x/p2' }, { nextUrl: 'https://x/p2' }),
    ).toMatchObject({
      code: 'pagination_loop',
    });
  });

  it('stops a page that repeats an earlier one (a provider ignoring the page parameter)', () => {
    const guard = new RunGuard(budget, start, 0, {});
    expect(guard.afterPage(records('1', '2'), {}, { page: 2 })).toBeUndefined();
    expect(guard.afterPage(records('1', '2'), { page: 2 }, { page: 3 })).toMatchObject({
      code: 'pagination_loop',
    });
    const alternating = new RunGuard(budget, start, 0, {});
    expect(alternating.afterPage(records('a'), {}, { cursor: '1' })).toBeUndefined();
    expect(alternating.afterPage(records('b'), { cursor: '1' }, { cursor: '2' })).toBeUndefined();
    expect(alternating.afterPage(records('a'), { cursor: '2' }, { cursor: '3' })).toMatchObject({
      code: 'pagination_loop',
    });
    // Empty pages repeat without being a loop.
    const empty = new RunGuard(budget, start, 0, {});
    expect(empty.afterPage([], {}, { page: 2 })).toBeUndefined();
    expect(empty.afterPage([], { page: 2 }, undefined)).toBeUndefined();
  });

  it('the same position in another feed, or a new slice of the window, is not a repetition', () => {
    const guard = new RunGuard(budget, start, 0, { since: 's' });
    expect(
      guard.afterPage(records('1'), { since: 's' }, { since: 's', feed: 'deletions' }),
    ).toBeUndefined();
    expect(
      guard.afterPage(
        records('2'),
        { feed: 'deletions' },
        { since: 's', sliceFrom: 't', sliceCount: 0 },
      ),
    ).toBeUndefined();
  });

  it('tells apart long next links that differ only at their end, and stops one repeated', () => {
    const link = (n: number) => `https://x/odata/contacts?$skiptoken=${'t'.repeat(2000)}${n}`;
    const guard = new RunGuard({ ...budget, maxPages: 100 }, start, 0, {});
    for (let n = 1; n < 50; n += 1) {
      expect(
        guard.afterPage(records(`r${n}`), { nextUrl: link(n - 1) }, { nextUrl: link(n) }),
      ).toBeUndefined();
    }
    expect(
      guard.afterPage(records('r50'), { nextUrl: link(49) }, { nextUrl: link(7) }),
    ).toMatchObject({ code: 'pagination_loop' });
  });

  it('a restarted feed may read its pages again', () => {
    const guard = new RunGuard(budget, start, 0, {});
    expect(guard.afterPage(records('1'), {}, { nextUrl: 'https://x/2' })).toBeUndefined();
    guard.restarted({});
    expect(guard.afterPage(records('1'), {}, { nextUrl: 'https://x/3' })).toBeUndefined();
  });

  it('has a page budget (counting earlier executions) and a time budget', () => {
    const guard = new RunGuard(budget, start, 3, {});
    expect(guard.beforePage(1, start)).toBeUndefined();
    expect(guard.beforePage(2, start)).toMatchObject({ code: 'sync_page_budget_exceeded' });
    expect(guard.beforePage(0, new Date(start.getTime() + 11 * 60_000))).toMatchObject({
      code: 'sync_time_budget_exceeded',
    });
  });
});
