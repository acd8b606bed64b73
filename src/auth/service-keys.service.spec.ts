import { describe, expect, it } from '@jest/globals';
import { AuthenticationError, RateLimitedError } from '../common/errors/app-error.js';
import { Clock } from '../infra/clock/clock.js';
import type { Caller } from './caller.js';
import { KeyRevocationsPublisher } from './key-revocations.js';
import { generateServiceKey, hashServiceKey } from './service-key-format.js';
import type { ServiceKeysRepository } from './service-keys.repository.js';
import { ServiceKeysService } from './service-keys.service.js';

class ManualClock extends Clock {
  ms = Date.parse('2030-01-01T00:00:00Z');
  now(): Date {
    return new Date(this.ms);
  }
}

/** A repository that counts its lookups (the "no query" half of each case). */
class CountingRepository {
  lookups = 0;
  readonly active = new Map<string, Caller>();
  async findActiveByHash(hash: string): Promise<Caller | undefined> {
    this.lookups += 1;
    return this.active.get(hash);
  }
  async revoke(id: string): Promise<boolean> {
    for (const [hash, caller] of this.active) {
      if (caller.keyId === id) return this.active.delete(hash);
    }
    return false;
  }
}

class RecordingPublisher extends KeyRevocationsPublisher {
  readonly published: string[] = [];
  async publish(keyId: string): Promise<boolean> {
    this.published.push(keyId);
    return true;
  }
}

function setup() {
  const clock = new ManualClock();
  const repository = new CountingRepository();
  const publisher = new RecordingPublisher();
  const keys = new ServiceKeysService(
    repository as unknown as ServiceKeysRepository,
    clock,
    publisher,
  );
  const addKey = (keyId = '6f1c0c5e-3f0a-4a8e-9a57-5d1c1e0b9f11') => {
    const key = generateServiceKey();
    repository.active.set(hashServiceKey(key), {
      keyId,
      name: 'k',
      tenants: [],
      integrations: [],
      actions: ['token'],
    });
    return key;
  };
  return { clock, repository, publisher, keys, addKey };
}

const ADDRESS = '203.0.113.7';

describe('ServiceKeysService.authenticate', () => {
  it('refuses a malformed key without a lookup', async () => {
    const { keys, repository } = setup();
    for (const bad of ['x', 'tbk_short', `tbk_${'!'.repeat(43)}`, `Bearer tbk_${'a'.repeat(43)}`]) {
      await expect(keys.authenticate(bad, ADDRESS)).rejects.toMatchObject({
        code: 'invalid_service_key',
      });
    }
    expect(repository.lookups).toBe(0);
  });

  it('looks an unknown well-formed key up once, then refuses it from memory', async () => {
    const { keys, repository, clock } = setup();
    const unknown = generateServiceKey();
    for (let i = 0; i < 5; i += 1) {
      await expect(keys.authenticate(unknown, `198.51.100.${i}`)).rejects.toBeInstanceOf(
        AuthenticationError,
      );
    }
    expect(repository.lookups).toBe(1);
    clock.ms += 61_000; // the negative entry lapses
    await expect(keys.authenticate(unknown)).rejects.toBeInstanceOf(AuthenticationError);
    expect(repository.lookups).toBe(2);
  });

  it('answers 429 after 20 failures from one address, with no lookup, until the window ends', async () => {
    const { keys, repository, clock, addKey } = setup();
    for (let i = 0; i < 20; i += 1) {
      await expect(keys.authenticate(generateServiceKey(), ADDRESS)).rejects.toMatchObject({
        code: 'invalid_service_key',
      });
    }
    expect(repository.lookups).toBe(20);
    clock.ms += 15_000;
    const refused = keys.authenticate(generateServiceKey(), ADDRESS);
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({
      code: 'too_many_failed_attempts',
      retryAfterSeconds: 45,
    });
    // Even a valid key this replica has not verified yet waits: it would cost a query.
    const valid = addKey();
    await expect(keys.authenticate(valid, ADDRESS)).rejects.toBeInstanceOf(RateLimitedError);
    await expect(keys.authenticate('malformed', ADDRESS)).rejects.toBeInstanceOf(RateLimitedError);
    expect(repository.lookups).toBe(20);
    // Other addresses are not affected; IPv4-mapped IPv6 is the same address.
    await expect(keys.authenticate(valid, '203.0.113.8')).resolves.toMatchObject({
      actions: ['token'],
    });
    await expect(keys.authenticate('malformed', `::ffff:${ADDRESS}`)).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    clock.ms += 45_000;
    await expect(keys.authenticate(valid, ADDRESS)).resolves.toBeDefined();
  });

  it('keeps serving a key it already verified to a blocked address (shared NAT), from memory', async () => {
    const { keys, repository, addKey } = setup();
    const valid = addKey();
    await keys.authenticate(valid, ADDRESS);
    for (let i = 0; i < 25; i += 1) {
      await keys.authenticate(generateServiceKey(), ADDRESS).catch(() => undefined);
    }
    const lookups = repository.lookups;
    await expect(keys.authenticate(valid, ADDRESS)).resolves.toBeDefined();
    expect(repository.lookups).toBe(lookups);
  });

  it('does not count a missing key or a valid one as a failure', async () => {
    const { keys, addKey } = setup();
    const valid = addKey();
    for (let i = 0; i < 30; i += 1) {
      await expect(keys.authenticate(undefined, ADDRESS)).rejects.toMatchObject({
        code: 'missing_service_key',
      });
    }
    await expect(keys.authenticate(valid, ADDRESS)).resolves.toBeDefined();
  });

  it('serves a verified key from memory, and forgets it at once when it is revoked', async () => {
    const { keys, repository, publisher, addKey } = setup();
    const keyId = '0d6f5a51-8a2c-4a59-9a7e-2f8b2b6c1d01';
    const valid = addKey(keyId);
    await keys.authenticate(valid, ADDRESS);
    await keys.authenticate(valid, ADDRESS);
    expect(repository.lookups).toBe(1);
    await expect(keys.revoke(keyId)).resolves.toEqual({ revoked: true, broadcast: true });
    expect(publisher.published).toEqual([keyId]);
    await expect(keys.authenticate(valid, ADDRESS)).rejects.toMatchObject({
      code: 'invalid_service_key',
    });
  });

  it('forgets a key revoked elsewhere when the broadcast arrives', async () => {
    const { keys, repository, addKey } = setup();
    const keyId = '9b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b';
    const valid = addKey(keyId);
    await keys.authenticate(valid);
    await repository.revoke(keyId); // another replica wrote it
    await expect(keys.authenticate(valid)).resolves.toBeDefined(); // cached
    keys.forget(keyId);
    await expect(keys.authenticate(valid)).rejects.toBeInstanceOf(AuthenticationError);
  });
});
