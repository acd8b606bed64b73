import { describe, expect, it } from '@jest/globals';
import type { Caller } from './caller.js';
import { ServiceKeyCache } from './service-key-cache.js';

const caller = (keyId: string): Caller => ({
  keyId,
  name: keyId,
  tenants: [],
  integrations: [],
  actions: ['token'],
});

const limits = { knownTtlMs: 1_000, unknownTtlMs: 500, maxKnown: 2, maxUnknown: 2 };

describe('ServiceKeyCache', () => {
  it('answers a verified key until its TTL, then asks the database again', () => {
    const cache = new ServiceKeyCache(limits);
    cache.rememberKnown('h1', caller('k1'), 0);
    expect(cache.lookup('h1', 999)).toEqual(caller('k1'));
    expect(cache.lookup('h1', 1_000)).toBeUndefined();
    // Gone, not just stale: a later lookup still asks.
    expect(cache.lookup('h1', 0)).toBeUndefined();
  });

  it('refuses a known-bad key until its TTL; verifying it later replaces the refusal', () => {
    const cache = new ServiceKeyCache(limits);
    cache.rememberUnknown('bad', 0);
    expect(cache.lookup('bad', 499)).toBe('unknown');
    expect(cache.lookup('bad', 500)).toBeUndefined();
    cache.rememberUnknown('h1', 0);
    cache.rememberKnown('h1', caller('k1'), 0);
    expect(cache.lookup('h1', 1)).toEqual(caller('k1'));
  });

  it('stays bounded, keeping the key in use over one that is not', () => {
    const cache = new ServiceKeyCache(limits);
    cache.rememberKnown('h1', caller('k1'), 0);
    cache.rememberKnown('h2', caller('k2'), 0);
    expect(cache.lookup('h1', 1)).toBeDefined();
    cache.rememberKnown('h3', caller('k3'), 1);
    expect(cache.lookup('h1', 2)).toEqual(caller('k1'));
    expect(cache.lookup('h2', 2)).toBeUndefined();
    expect(cache.lookup('h3', 2)).toEqual(caller('k3'));
    for (let i = 0; i < 10; i += 1) cache.rememberUnknown(`bad${i}`, 0);
    expect(
      [...Array(10).keys()].filter((i) => cache.lookup(`bad${i}`, 1) === 'unknown'),
    ).toHaveLength(2);
  });

  it('forgets a revoked key under every hash it was cached by, and everything on request', () => {
    const cache = new ServiceKeyCache({ ...limits, maxKnown: 10 });
    cache.rememberKnown('h1', caller('k1'), 0);
    cache.rememberKnown('h1-again', caller('k1'), 0);
    cache.rememberKnown('h2', caller('k2'), 0);
    expect(cache.forgetKey('k1')).toBe(true);
    expect(cache.forgetKey('k1')).toBe(false);
    expect(cache.lookup('h1', 1)).toBeUndefined();
    expect(cache.lookup('h1-again', 1)).toBeUndefined();
    expect(cache.lookup('h2', 1)).toEqual(caller('k2'));
    cache.forgetAllKnown();
    expect(cache.lookup('h2', 1)).toBeUndefined();
  });
});
