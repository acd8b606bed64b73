/** A connect session as the connect flow sees it (the token itself is never stored). */
export interface ConnectSession {
  id: string;
  tenantId: string;
  integrationKey: string;
  endUserId?: string;
  returnTo?: string;
  scopes: string[];
  /** The key that made it; none for a reconnect link the broker made itself. */
  serviceKeyId?: string;
  /**
   * A reconnect of one connection: the grant must come back for the same
   * external account, or it is refused (and never stored).
   */
  reconnect?: { connectionId: string; accountId: string };
  expiresAt: Date;
  startedAt?: Date;
}

/** A session with how its flow ended, as stored. */
export interface ConnectSessionState extends ConnectSession {
  tokenHash: string;
  completedAt?: Date;
  connectionId?: string;
  errorCode?: string;
}
