/** A connect session as the connect flow sees it (the token itself is never stored). */
export interface ConnectSession {
  id: string;
  tenantId: string;
  integrationKey: string;
  endUserId?: string;
  returnTo?: string;
  scopes: string[];
  serviceKeyId: string;
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
