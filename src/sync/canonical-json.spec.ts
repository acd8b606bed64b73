import { describe, expect, it } from '@jest/globals';
import { canonicalJson, contentHash } from './canonical-json.js';

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
});
