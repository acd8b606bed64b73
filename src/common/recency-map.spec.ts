import { describe, expect, it } from '@jest/globals';
import { RecencyMap } from './recency-map.js';

describe('RecencyMap', () => {
  it('drops an entry not used since the last eviction pass, keeping the ones in use', () => {
    const map = new RecencyMap<string, number>(3);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.get('a')).toBe(1);
    map.set('d', 4);
    expect(map.size).toBe(3);
    expect(map.peek('b')).toBeUndefined();
    expect([...map.entries()].map(([key]) => key).sort()).toEqual(['a', 'c', 'd']);
  });

  it('never drops the entry being inserted, even when every other one is in use', () => {
    const map = new RecencyMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.get('a');
    map.get('b');
    map.set('c', 3);
    expect(map.size).toBe(2);
    expect(map.peek('c')).toBe(3);
    // The pass cleared both flags and dropped the oldest; b, passed once, is unused now.
    expect(map.peek('a')).toBeUndefined();
    expect(map.peek('b')).toBe(2);
    map.set('d', 4);
    expect(map.peek('b')).toBeUndefined();
    expect(map.peek('c')).toBe(3);
  });

  it('is bounded under a long random workload', () => {
    const map = new RecencyMap<number, number>(50);
    for (let i = 0; i < 10_000; i += 1) {
      const key = (i * 7919) % 200;
      if (map.get(key) === undefined) map.set(key, i);
      expect(map.size).toBeLessThanOrEqual(50);
    }
  });

  it('replaces a value in place and forgets on delete and clear', () => {
    const map = new RecencyMap<string, number>(2);
    map.set('a', 1);
    map.set('a', 2);
    expect(map.size).toBe(1);
    expect(map.get('a')).toBe(2);
    expect(map.delete('a')).toBe(true);
    expect(map.get('a')).toBeUndefined();
    map.set('b', 1);
    map.clear();
    expect(map.size).toBe(0);
  });
});
