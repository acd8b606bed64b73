export type ConnectionStatus = 'pending' | 'active' | 'needs_reauth' | 'revoked';

/** A connection as the rest of the service sees it: no credentials. */
export interface Connection {
  id: string;
  tenantId: string;
  integrationKey: string;
  provider: string;
  status: ConnectionStatus;
  account: { id: string; email?: string; name?: string };
  endUserId?: string;
  scopes: string[];
  expiresAt?: Date;
  lastRefreshedAt?: Date;
  lastSyncAt?: Date;
  /** Consecutive transient refresh failures (the connection stays active through them). */
  refreshFailures: number;
  lastRefreshError?: string;
  /** No refresh before this (after a failure retrying at once would repeat). */
  refreshRetryAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type { Tokens, TokenSet } from '../crypto/token-set.js';
import type { TokenSet } from '../crypto/token-set.js';

/** A connection with its credentials and the version they were read at. */
export interface ConnectionWithTokens {
  connection: Connection;
  tokens?: TokenSet;
  version?: number;
}
