import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../config/app-config.js';
import type { RedisService } from '../infra/redis/redis.service.js';
import type { Connection } from './connection.js';
import { ConnectionCache } from './connection-cache.js';
import { type SealedConnection, SealedConnectionCache } from './sealed-connection.cache.js';

const sealed = (id: string): SealedConnection => ({
  connection: { id } as Connection,
  credential: { keyId: 'k1', ciphertext: new Uint8Array([1, 2, 3]), version: 1 },
});

function cache(size = 3, ttlMs = 1_000) {
  let now = 0;
  const subject = new SealedConnectionCache(size, ttlMs, () => now);
  subject.setEnabled(true);
  return { subject, advance: (ms: number) => void (now += ms) };
}

describe('SealedConnectionCache', () => {
  it('keeps at most its size, dropping the least recently used', () => {
    const { subject } = cache(3);
    for (const id of ['a', 'b', 'c']) subject.put(id, sealed(id), subject.ticket());
    expect(subject.get('a')).toBeDefined(); // a is now the most recent
    subject.put('d', sealed('d'), subject.ticket());
    expect(subject.size).toBe(3);
    expect(subject.get('b')).toBeUndefined();
    expect(subject.get('a')?.connection.id).toBe('a');
    expect(subject.get('c')).toBeDefined();
    expect(subject.get('d')).toBeDefined();
  });

  it('forgets an entry once its TTL has passed', () => {
    const { subject, advance } = cache(3, 1_000);
    subject.put('a', sealed('a'), subject.ticket());
    advance(999);
    expect(subject.get('a')).toBeDefined();
    advance(1);
    expect(subject.get('a')).toBeUndefined();
    expect(subject.size).toBe(0);
  });

  it('does not store what a miss read when an invalidation arrived during its query', () => {
    const { subject } = cache();
    const ticket = subject.ticket();
    subject.evict('other'); // any invalidation, even of another id
    subject.put('a', sealed('a'), ticket);
    expect(subject.get('a')).toBeUndefined();
    subject.put('a', sealed('a'), subject.ticket());
    subject.evict('a');
    expect(subject.get('a')).toBeUndefined();
  });

  it('serves and stores nothing while disabled (invalidation channel down), and starts empty again', () => {
    const { subject } = cache();
    subject.put('a', sealed('a'), subject.ticket());
    const ticket = subject.ticket();
    subject.setEnabled(false);
    expect(subject.get('a')).toBeUndefined();
    subject.put('b', sealed('b'), subject.ticket());
    expect(subject.size).toBe(0);
    subject.setEnabled(true);
    expect(subject.get('a')).toBeUndefined();
    // A read that began before the outage is not stored after it either.
    subject.put('a', sealed('a'), ticket);
    expect(subject.get('a')).toBeUndefined();
  });

  it('is off with size 0', () => {
    const subject = new SealedConnectionCache(0, 1_000);
    subject.setEnabled(true);
    subject.put('a', sealed('a'), subject.ticket());
    expect(subject.active).toBe(false);
    expect(subject.get('a')).toBeUndefined();
  });
});

describe('ConnectionCache', () => {
  const config = { tokens: { readCache: { size: 10, ttlSeconds: 30 } } } as AppConfig;
  const redis = { prefix: 'tb-unit:', client: {} } as RedisService;

  it('reads through to the database every time until the invalidation channel is live', async () => {
    const subject = new ConnectionCache(config, redis);
    let loads = 0;
    const load = () => Promise.resolve(((loads += 1), sealed('a')));
    await subject.read('a', load);
    await subject.read('a', load);
    expect(loads).toBe(2);
    expect(subject.live).toBe(false);
  });
});
