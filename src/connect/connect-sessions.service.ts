import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type Caller, canSeeTenant, canUseIntegration } from '../auth/caller.js';
// Recognised by log redaction and by the guard.
import { CONNECT_SESSION_TOKEN_PREFIX } from '../auth/service-key.guard.js';
import { NotFoundError, PermissionError, ValidationError } from '../common/errors/app-error.js';
import { randomToken, sha256Hex } from '../common/random.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection } from '../connections/connection.js';
import { assertCallerMayUse } from '../connections/connection-access.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { missingModelScopes } from '../integrations/scopes.js';
import type { ConnectSession } from './connect-session.js';
import { connectUrlFor } from './connect-urls.js';
import { ConnectSessionsRepository } from './connect-sessions.repository.js';
import { isAllowedReturnUrl } from './return-url.js';

export interface CreateConnectSessionInput {
  integration: string;
  tenantId: string;
  endUserId?: string;
  returnTo?: string;
  scopes?: string[];
  /** Reconnect this connection (incremental consent, same account). */
  connectionId?: string;
}

export interface CreatedConnectSession {
  id: string;
  token: string;
  connectUrl: string;
  expiresAt: Date;
}

/** A reconnect link in a `connection.reauth_required` event stays usable this long. */
export const RECONNECT_LINK_TTL_SECONDS = 7 * 86_400;

export function hashSessionToken(token: string): string {
  return sha256Hex(token);
}

@Injectable()
export class ConnectSessionsService {
  constructor(
    private readonly config: AppConfig,
    private readonly integrations: IntegrationRegistry,
    private readonly sessions: ConnectSessionsRepository,
    private readonly connections: ConnectionStore,
    private readonly clock: Clock,
  ) {}

  async create(caller: Caller, input: CreateConnectSessionInput): Promise<CreatedConnectSession> {
    if (!canSeeTenant(caller, input.tenantId)) {
      throw new PermissionError(
        'tenant_not_granted',
        `This service key is not granted tenant "${input.tenantId}"`,
      );
    }
    if (!canUseIntegration(caller, input.integration)) {
      throw new PermissionError(
        'integration_not_granted',
        `This service key is not granted integration "${input.integration}"`,
      );
    }
    const integration = this.integrations.get(input.integration);
    if (!integration) {
      throw new NotFoundError(
        'integration_not_found',
        `No integration "${input.integration}" is configured`,
      );
    }
    const reconnecting = input.connectionId
      ? await this.reconnectTarget(caller, input, integration)
      : undefined;
    const endUserId = input.endUserId ?? reconnecting?.endUserId;
    // A reconnect is bound to its account, which does finalize's job (below).
    if (integration.requireFinalize && endUserId === undefined && !reconnecting) {
      throw new ValidationError(
        'end_user_required',
        `Integration "${input.integration}" requires finalize: give the endUserId it will be checked against`,
      );
    }
    if (
      input.returnTo !== undefined &&
      !isAllowedReturnUrl(input.returnTo, this.config.allowedReturnUrls)
    ) {
      throw new ValidationError(
        'return_url_not_allowed',
        'returnTo does not match ALLOWED_RETURN_URLS',
      );
    }
    return this.insert(
      {
        tenantId: input.tenantId,
        integrationKey: input.integration,
        endUserId,
        returnTo: input.returnTo,
        scopes: [
          ...(reconnecting ? reconnectScopes(integration, reconnecting) : []),
          ...(input.scopes ?? []),
        ],
        serviceKeyId: caller.keyId,
        reconnect: reconnecting && {
          connectionId: reconnecting.id,
          accountId: reconnecting.account.id,
        },
      },
      this.config.connect.sessionTtlSeconds,
    );
  }

  /**
   * The single-use reconnect link of a `connection.reauth_required` event:
   * a connect session bound to the connection and its external account,
   * asking for what it had and what its models miss, valid 7 days.
   */
  async createReconnectLink(connection: Connection): Promise<CreatedConnectSession> {
    const integration = this.integrations.get(connection.integrationKey);
    return this.insert(
      {
        tenantId: connection.tenantId,
        integrationKey: connection.integrationKey,
        endUserId: connection.endUserId,
        scopes: integration ? reconnectScopes(integration, connection) : connection.scopes,
        reconnect: { connectionId: connection.id, accountId: connection.account.id },
      },
      RECONNECT_LINK_TTL_SECONDS,
    );
  }

  /** A link made for an event that is not sent after all. */
  async discard(sessionId: string): Promise<void> {
    await this.sessions.discard(sessionId);
  }

  private async reconnectTarget(
    caller: Caller,
    input: CreateConnectSessionInput,
    integration: Integration,
  ): Promise<Connection> {
    const connection = assertCallerMayUse(
      caller,
      await this.connections.findById(input.connectionId!),
    );
    if (connection.tenantId !== input.tenantId || connection.integrationKey !== integration.key) {
      throw new ValidationError(
        'reconnect_target_mismatch',
        'connectionId names a connection of another tenant or integration',
      );
    }
    return connection;
  }

  private async insert(
    session: Omit<ConnectSession, 'id' | 'expiresAt'>,
    ttlSeconds: number,
  ): Promise<CreatedConnectSession> {
    const token = `${CONNECT_SESSION_TOKEN_PREFIX}${randomToken(32)}`;
    const id = randomUUID();
    const expiresAt = new Date(this.clock.now().getTime() + ttlSeconds * 1000);
    await this.sessions.create({
      ...session,
      id,
      tokenHash: hashSessionToken(token),
      scopes: [...new Set(session.scopes)],
      expiresAt,
    });
    return { id, token, connectUrl: connectUrlFor(this.config, token), expiresAt };
  }
}

/** Incremental consent: what the connection was granted, plus what its synced models miss. */
function reconnectScopes(integration: Integration, connection: Connection): string[] {
  return [...connection.scopes, ...missingModelScopes(integration, connection.scopes)];
}
