import type { Connection } from '../connections/connection.js';
import type { Integration } from '../integrations/integration.js';
import { missingModelScopes } from '../integrations/scopes.js';
import { nextRefreshAt, type ProactiveSettings } from '../refresh/refresh-policy.js';
import type { IssuedToken } from '../refresh/token.service.js';
import type { ConnectionDto, TokenDto } from './responses.schema.js';

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

/**
 * The public shape of a connection: never a token, never a raw row.
 * `integration`: its configured integration, for the scopes its models need.
 */
export function connectionView(
  connection: Connection,
  settings: ProactiveSettings,
  integration: Integration | undefined,
): ConnectionDto {
  return {
    id: connection.id,
    tenantId: connection.tenantId,
    integration: connection.integrationKey,
    provider: connection.provider,
    status: connection.status,
    scopes: connection.scopes,
    missingScopes: integration ? missingModelScopes(integration, connection.scopes) : [],
    account: connection.account,
    endUserId: connection.endUserId ?? null,
    expiresAt: iso(connection.expiresAt),
    lastRefreshedAt: iso(connection.lastRefreshedAt),
    nextRefreshAt: iso(nextRefreshAt(connection, settings)),
    refreshFailures: connection.refreshFailures,
    lastRefreshError: connection.lastRefreshError ?? null,
    refreshRetryAt: iso(connection.refreshRetryAt),
    lastSyncAt: iso(connection.lastSyncAt),
    createdAt: connection.createdAt.toISOString(),
  };
}

/** The token API's answer; the refresh token never leaves the broker. */
export function tokenView({ tokens, minValidityClampedTo }: IssuedToken): TokenDto {
  return {
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt.toISOString(),
    scopes: tokens.scopes,
    extras: tokens.extras,
    ...(minValidityClampedTo !== undefined && { minValidityClampedTo }),
  };
}
