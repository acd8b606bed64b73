import type { Connection, TokenSet } from '../connections/connection.js';
import { RefreshHeldError } from './refresh-held.error.js';

/** What a caller needs of a connection's tokens. */
export interface Freshness {
  /** The access token must stay valid at least this long. */
  minValiditySeconds: number;
  /** …and must have been obtained after this moment (forced and idle refreshes). */
  refreshedAfter?: Date;
}

export function satisfies(
  connection: Connection,
  tokens: TokenSet,
  freshness: Freshness,
  now: Date,
): boolean {
  if (tokens.expiresAt.getTime() - now.getTime() < freshness.minValiditySeconds * 1000)
    return false;
  if (!freshness.refreshedAfter) return true;
  return !!connection.lastRefreshedAt && connection.lastRefreshedAt > freshness.refreshedAfter;
}

export interface ProactiveSettings {
  refreshMarginSeconds: number;
  idleRefreshSeconds: number;
}

/**
 * How long before expiry a proactive refresh happens: the configured margin,
 * but never more than half the token's lifetime, or a provider with short
 * tokens would be refreshed at every sweep. The sweep's SQL applies the same
 * rule (ConnectionSweepsRepository.dueByExpiry).
 */
export function proactiveMarginSeconds(
  connection: Connection,
  settings: ProactiveSettings,
): number {
  if (!connection.expiresAt || !connection.lastRefreshedAt) return settings.refreshMarginSeconds;
  const lifetime = (connection.expiresAt.getTime() - connection.lastRefreshedAt.getTime()) / 1000;
  return Math.max(0, Math.min(settings.refreshMarginSeconds, Math.floor(lifetime / 2)));
}

/** What a proactive refresh job asks for, as of `now`. */
export function proactiveFreshness(
  connection: Connection,
  settings: ProactiveSettings,
  now: Date,
): Freshness {
  return {
    minValiditySeconds: proactiveMarginSeconds(connection, settings),
    refreshedAfter: new Date(now.getTime() - settings.idleRefreshSeconds * 1000),
  };
}

/**
 * When the sweep will next refresh this connection (never before a cooldown
 * after a failing refresh ends); undefined when it never will (not active).
 */
export function nextRefreshAt(
  connection: Connection,
  settings: ProactiveSettings,
): Date | undefined {
  if (connection.status !== 'active' || !connection.expiresAt) return undefined;
  const beforeExpiry =
    connection.expiresAt.getTime() - proactiveMarginSeconds(connection, settings) * 1000;
  const idle = (connection.lastRefreshedAt?.getTime() ?? 0) + settings.idleRefreshSeconds * 1000;
  const held = connection.refreshRetryAt?.getTime() ?? 0;
  return new Date(Math.max(Math.min(beforeExpiry, idle), held));
}

/**
 * The validity a token read can be given. A caller asking for more than the
 * provider's tokens last (their lifetime: the current one's expiry less when
 * it was obtained) could never be satisfied, and each call would refresh.
 * Clamped to the lifetime less a tenth (a minute at least, a quarter at
 * most), a token just
 * refreshed satisfies the request for that tenth, so a burst of such calls
 * makes one refresh. Unknown lifetime: as asked.
 */
export function applicableMinValidity(
  requestedSeconds: number,
  expiresAt: Date,
  obtainedAt: Date | undefined,
): number {
  if (!obtainedAt) return requestedSeconds;
  const lifetime = Math.floor((expiresAt.getTime() - obtainedAt.getTime()) / 1000);
  if (lifetime <= 0) return requestedSeconds;
  // A tenth of the lifetime, at least a minute, but never more than a quarter
  // of it: short-lived tokens (a minute or two) keep most of their life.
  const slack = Math.max(Math.min(60, Math.ceil(lifetime / 4)), Math.ceil(lifetime / 10));
  const most = Math.max(0, lifetime - slack);
  return Math.min(requestedSeconds, most);
}

/** Background work renews a token this long before expiry at the most. */
const WORK_MARGIN_SECONDS = 60;

/**
 * How long a token must still be valid before background work (a sync page)
 * uses it: a minute, or half its lifetime for short-lived tokens (else a
 * provider with 2-minute tokens would be refreshed before every page).
 */
export function workValiditySeconds(expiresAt: Date, obtainedAt: Date): number {
  const lifetime = (expiresAt.getTime() - obtainedAt.getTime()) / 1000;
  return Math.max(0, Math.min(WORK_MARGIN_SECONDS, Math.floor(lifetime / 2)));
}

const COOLDOWN_BASE_MS = 60_000;
const COOLDOWN_CAP_MS = 3_600_000;

/** After the n-th consecutive failure that retrying does not fix: 1 min, doubling to 1 h. */
export function coolDownUntil(failures: number, now: Date): Date {
  const ms = Math.min(COOLDOWN_BASE_MS * 2 ** Math.min(failures - 1, 20), COOLDOWN_CAP_MS);
  return new Date(now.getTime() + ms);
}

/** A connection cooling down after such a failure: no provider call, a retryable 503. */
export function assertNotCoolingDown(connection: Connection, now: Date): void {
  const until = connection.refreshRetryAt;
  if (!until || until <= now) return;
  throw new RefreshHeldError(
    'refresh_failing',
    `The last refresh failed (${connection.lastRefreshError ?? 'provider_error'}) in a way retrying at once does not fix; retry later`,
    Math.ceil((until.getTime() - now.getTime()) / 1000),
  );
}
