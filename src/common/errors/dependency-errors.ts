/**
 * Whether an error means PostgreSQL cannot be reached or dropped the
 * connection, as Prisma's driver adapter reports it, or node-postgres under
 * PrismaService.direct (a DatabaseStatementError); no import of either: the
 * shape is enough. Such a failure is an outage to wait out (503,
 * Retry-After; a job waits without spending an attempt), not a bug.
 */
const UNREACHABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionAlreadyClosed',
]);
const UNREACHABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash, cannot connect now),
// 57014 (query_canceled: a statement ran past its statement_timeout, PrismaService.direct's bound,
// e.g. a page write stuck behind a lock or a stalled server; it was rolled back, and waiting and
// trying again is the cure, as for an outage; a run's time budget still ends a run that keeps hitting it).
const UNREACHABLE_SQLSTATE = /^(08|57P0[123]|57014$)/;
// The last two are node-postgres's: the pool had no connection to give in time, and the client's
// own query_timeout (the server never answered).
const UNREACHABLE_MESSAGE =
  /Can't reach database server|Connection terminated|ECONNREFUSED|ECONNRESET|EPIPE|Timed out fetching a new connection|timeout exceeded when trying to connect|Query read timeout/i;
// node-postgres's own errors carry the socket error's code, or the SQLSTATE, as `code`.
const UNREACHABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

interface Shaped {
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
  cause?: unknown;
}

/**
 * The message is read only inside a Prisma error (or what it wraps): a bare
 * "ECONNREFUSED" elsewhere (a provider, a webhook receiver) is not ours.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0, fromPrisma = false): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  const e = error as Shaped & { clientVersion?: unknown; name?: unknown };
  const prisma =
    fromPrisma ||
    e.clientVersion !== undefined ||
    (typeof e.name === 'string' &&
      /^(PrismaClient|DriverAdapterError|DatabaseStatementError)/.test(e.name));
  const cause = e.meta?.driverAdapterError?.cause;
  if (typeof cause?.kind === 'string' && UNREACHABLE_KINDS.has(cause.kind)) return true;
  if (typeof cause?.originalCode === 'string' && UNREACHABLE_SQLSTATE.test(cause.originalCode))
    return true;
  if (typeof e.code === 'string' && UNREACHABLE_PRISMA_CODES.has(e.code)) return true;
  if (prisma && typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message)) return true;
  if (
    fromPrisma &&
    typeof e.code === 'string' &&
    (UNREACHABLE_SOCKET_CODES.has(e.code) || UNREACHABLE_SQLSTATE.test(e.code))
  )
    return true;
  return isDatabaseUnavailable(e.cause, depth + 1, prisma);
}

/**
 * How ioredis (and BullMQ over it) fail a command while Redis is away: the
 * offline queue is off (the command fails at once), the connection closed
 * under it, a retry or command timeout ran out. A Redis reply error (a bad
 * command, OOM) is none of these: that one is a bug or a misconfiguration.
 */
const REDIS_UNREACHABLE_MESSAGE =
  /Stream isn't writeable and enableOfflineQueue|Connection is closed|Command timed out|Reached the max retries per request/;

/** Thrown where a Redis failure is known to be one (e.g. the queue's producer). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(cause: unknown) {
    super('Redis is unreachable', { cause });
  }
}

export function isRedisUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  if (error instanceof RedisUnavailableError) return true;
  const e = error as { name?: unknown; message?: unknown; cause?: unknown };
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.message === 'string' && REDIS_UNREACHABLE_MESSAGE.test(e.message)) return true;
  return isRedisUnavailable(e.cause, depth + 1);
}
