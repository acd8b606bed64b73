/**
 * Whether an error means PostgreSQL cannot be reached or dropped the
 * connection, as Prisma's driver adapter reports it (no import of Prisma:
 * the shape is enough). Such a failure is an outage to wait out (503,
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
// SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash, cannot connect now).
const UNREACHABLE_SQLSTATE = /^(08|57P0[123])/;
const UNREACHABLE_MESSAGE =
  /Can't reach database server|Connection terminated|ECONNREFUSED|ECONNRESET|EPIPE|Timed out fetching a new connection/i;

interface Shaped {
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
  cause?: unknown;
}

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  const e = error as Shaped;
  const cause = e.meta?.driverAdapterError?.cause;
  if (typeof cause?.kind === 'string' && UNREACHABLE_KINDS.has(cause.kind)) return true;
  if (typeof cause?.originalCode === 'string' && UNREACHABLE_SQLSTATE.test(cause.originalCode))
    return true;
  if (typeof e.code === 'string' && UNREACHABLE_PRISMA_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
