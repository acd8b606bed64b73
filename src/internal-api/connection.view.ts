import type { Connection } from '../connections/connection.js';
import type { Integration } from '../integrations/integration.js';
import { missingModelScopes } from '../integrations/scopes.js';
import { nextRefreshAt, type ProactiveSettings } from '../refresh/refresh-policy.js';
import type { ConnectionDto } from './responses.schema.js';

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
