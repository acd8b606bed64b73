import type { Connection as ConnectionRow } from '../infra/prisma/generated/client.js';
import type { Connection } from './connection.js';

export function toConnection(row: ConnectionRow): Connection {
  const connection: Connection = {
    id: row.id,
    tenantId: row.tenantId,
    integrationKey: row.integrationKey,
    provider: row.provider,
    status: row.status,
    account: { id: row.accountId },
    scopes: row.scopes,
    refreshFailures: row.refreshFailures,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
  if (row.accountEmail) connection.account.email = row.accountEmail;
  if (row.accountName) connection.account.name = row.accountName;
  if (row.endUserId) connection.endUserId = row.endUserId;
  if (row.expiresAt) connection.expiresAt = row.expiresAt;
  if (row.lastRefreshedAt) connection.lastRefreshedAt = row.lastRefreshedAt;
  if (row.lastSyncAt) connection.lastSyncAt = row.lastSyncAt;
  if (row.lastRefreshError) connection.lastRefreshError = row.lastRefreshError;
  if (row.refreshRetryAt) connection.refreshRetryAt = row.refreshRetryAt;
  return connection;
}
