import { describe, expect, it } from '@jest/globals';
import { canonicalJson, contentHash } from './canonical-json.js';
import { pageRowsJson } from './page-rows.js';

describe('pageRowsJson', () => {
  it('is one JSON array of id, content hash, provider time and the canonical data', () => {
    const data = {
      name: 'Ada "the first"',
      id: 'co_1',
      tags: ['b', 'a'],
      nested: { z: 1, a: null },
    };
    const rows = JSON.parse(
      pageRowsJson([
        {
          externalId: 'co_1',
          data,
          providerUpdatedAt: new Date('2026-01-01T00:00:00Z'),
          deleted: false,
        },
        { externalId: 'id "with" quotes\\', data: {}, deleted: false },
      ]),
    ) as Array<Record<string, unknown>>;
    expect(rows).toEqual([
      { id: 'co_1', hash: contentHash(data), updated: '2026-01-01T00:00:00.000Z', data },
      { id: 'id "with" quotes\\', hash: contentHash({}), updated: null, data: {} },
    ]);
    // The stored data is the hashed text: jsonb keeps no key order, so it is the same value.
    expect(JSON.stringify(rows[0]!.data)).toBe(canonicalJson(data));
  });

  it('is an empty array for no records', () => {
    expect(pageRowsJson([])).toBe('[]');
  });
});
