import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { canonicalJson, contentHash, hashCanonical } from './canonical-json.js';

/** The first implementation, which every stored content hash came from. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

describe('canonical JSON', () => {
  it('is independent of key order at every depth', () => {
    expect(contentHash({ b: 1, a: { y: [1, { d: 2, c: 3 }], x: null } })).toBe(
      contentHash({ a: { x: null, y: [1, { c: 3, d: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('tells different content apart', () => {
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: '1' }));
    expect(contentHash([1, 2])).not.toBe(contentHash([2, 1]));
  });

  it('gives what the first implementation gave, so stored hashes stay valid', () => {
    const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${(i * 7) % 40}`, i]));
    for (const value of [
      { b: 1, a: { y: [1, { d: 2, c: 3 }], x: null }, u: undefined, é: 'x', Z: [undefined, null] },
      { '10': 1, '9': 2, '': 0, A: 3, a: 4, _: 5, '~': 6, '\ud83d\ude00': 7, 'q"\\': 'q"\\' },
      { id: 'co_1', name: 'Contact 1', updated_at: '2026-01-01T00:00:00.000Z', archived: false },
      wide,
      [],
      {},
      null,
      0,
      '',
      [1, [2, {}]],
    ]) {
      expect(canonicalJson(value)).toBe(reference(value));
      expect(contentHash(value)).toBe(createHash('sha256').update(reference(value)).digest('hex'));
    }
  });

  it('hashes the canonical text with SHA-256', () => {
    expect(hashCanonical('{"a":1}')).toBe(createHash('sha256').update('{"a":1}').digest('hex'));
  });
});
