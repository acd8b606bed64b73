import { describe, expect, it } from '@jest/globals';
import { ThrottledLog } from '../logging/throttled-log.js';
import {
  isDatabaseUnavailable,
  isRedisUnavailable,
  RedisUnavailableError,
} from './dependency-errors.js';

describe('isDatabaseUnavailable', () => {
  it.each([
    // What Prisma 7's pg adapter throws with the server down (seen on this machine).
    [
      { code: 'P1001', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } },
      true,
    ],
    [
      { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } },
      true,
    ],
    [{ meta: { driverAdapterError: { cause: { originalCode: '57P01' } } } }, true],
    [{ meta: { driverAdapterError: { cause: { originalCode: '08006' } } } }, true],
    // By message only inside a Prisma error: a bare network error may be a provider's.
    [
      Object.assign(new Error('Connection terminated unexpectedly'), { clientVersion: '7.10.0' }),
      true,
    ],
    [
      Object.assign(new Error('outer'), {
        name: 'PrismaClientUnknownRequestError',
        cause: new Error('connect ECONNREFUSED 127.0.0.1:5432'),
      }),
      true,
    ],
    // node-postgres under PrismaService.direct: its SQLSTATE or socket code, inside the wrapper only.
    [
      Object.assign(new Error('terminating connection due to administrator command'), {
        name: 'DatabaseStatementError',
        cause: Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
        }),
      }),
      true,
    ],
    [
      Object.assign(new Error('read ETIMEDOUT'), {
        name: 'DatabaseStatementError',
        cause: Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }),
      }),
      true,
    ],
    // A statement past PrismaService.direct's statement_timeout: rolled back, worth waiting out.
    [
      Object.assign(new Error('canceling statement due to statement timeout'), {
        name: 'DatabaseStatementError',
        cause: Object.assign(new Error('canceling statement due to statement timeout'), {
          code: '57014',
        }),
      }),
      true,
    ],
    [{ meta: { driverAdapterError: { cause: { originalCode: '57014' } } } }, true],
    [
      Object.assign(new Error('Query read timeout'), {
        name: 'DatabaseStatementError',
        cause: new Error('Query read timeout'),
      }),
      true,
    ],
    [Object.assign(new Error('canceling statement'), { code: '57014' }), false],
    [
      Object.assign(new Error('duplicate key value violates unique constraint'), {
        name: 'DatabaseStatementError',
        cause: Object.assign(new Error('duplicate key'), { code: '23505' }),
      }),
      false,
    ],
    [Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }), false],
    [new Error('Connection terminated unexpectedly'), false],
    [new Error('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.8:443') }), false],
    [{ code: 'P2002' }, false],
    [{ meta: { driverAdapterError: { cause: { originalCode: '23505' } } } }, false],
    [new Error('boom'), false],
    [undefined, false],
  ])('%j → %s', (error, expected) => {
    expect(isDatabaseUnavailable(error)).toBe(expected);
  });
});

describe('isRedisUnavailable', () => {
  it('knows how ioredis and BullMQ fail a command while Redis is away', () => {
    const maxRetries = Object.assign(new Error('Reached the max retries per request limit'), {
      name: 'MaxRetriesPerRequestError',
    });
    expect(isRedisUnavailable(maxRetries)).toBe(true);
    expect(
      isRedisUnavailable(
        new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      ),
    ).toBe(true);
    expect(isRedisUnavailable(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisUnavailable(new Error('Command timed out'))).toBe(true);
    expect(isRedisUnavailable(new RedisUnavailableError(new Error('connect ECONNREFUSED')))).toBe(
      true,
    );
    expect(isRedisUnavailable(new Error('wrapped', { cause: maxRetries }))).toBe(true);
  });

  it('is not fooled by a Redis reply error or by PostgreSQL', () => {
    const reply = Object.assign(new Error('OOM command not allowed'), { name: 'ReplyError' });
    expect(isRedisUnavailable(reply)).toBe(false);
    expect(isRedisUnavailable(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
    expect(isRedisUnavailable(undefined)).toBe(false);
  });
});

describe('ThrottledLog', () => {
  it('logs the first, then one per interval with what it suppressed', () => {
    const lines: number[] = [];
    const log = new ThrottledLog(1_000);
    for (const at of [0, 100, 200, 900, 1_000, 1_500, 2_100]) log.maybe((n) => lines.push(n), at);
    expect(lines).toEqual([0, 3, 1]);
  });
});
