import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { ConflictError, GoneError, NotFoundError } from '../common/errors/app-error.js';
import { randomToken, sha256Hex } from '../common/random.js';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import type { ConnectSession } from './connect-session.js';
import { hashSessionToken } from './connect-sessions.service.js';
import { ConnectSessionsRepository } from './connect-sessions.repository.js';
import { redirectUriFor } from './connect-urls.js';
import { flowCookieName, FlowStateStore } from './flow-state.store.js';

export interface FlowStart {
  authorizationUrl: URL;
  cookie: { name: string; value: string; maxAgeSeconds: number; secure: boolean };
}

/**
 * Starts an authorization-code flow for a connect session: PKCE (S256), a
 * 256-bit state, a nonce for OIDC, and a secret cookie that binds the flow
 * to the browser that started it (the callback must come back with it).
 */
@Injectable()
export class ConnectFlowService {
  constructor(
    private readonly config: AppConfig,
    private readonly integrations: IntegrationRegistry,
    private readonly sessions: ConnectSessionsRepository,
    private readonly flows: FlowStateStore,
    private readonly oauth: OAuthClient,
    private readonly clock: Clock,
    private readonly connections: ConnectionStore,
  ) {}

  async start(sessionToken: string | undefined): Promise<FlowStart> {
    const session = await this.usableSession(sessionToken);
    if (session.reconnect) await this.assertNotDisconnected(session.reconnect.connectionId);
    const integration = this.integrations.get(session.integrationKey);
    if (!integration)
      throw new NotFoundError(
        'integration_not_found',
        'The integration of this session is no longer configured',
      );

    const state = randomToken(32);
    const codeVerifier = client.randomPKCECodeVerifier();
    const nonce = integration.provider.kind === 'oidc' ? randomToken(32) : undefined;
    const binding = randomToken(32);
    const scopes = [...new Set([...integration.scopes, ...session.scopes])];
    // Asking beyond the integration's scopes (a reconnect, a session's own
    // scopes) is incremental consent: where the provider can, the new grant
    // keeps what the user granted before.
    const incremental = scopes.length > integration.scopes.length || !!session.reconnect;
    // Build the URL before claiming the session: if the provider's discovery
    // is down, the user can retry the same link.
    const authorizationUrl = await this.oauth.authorizationUrl(integration, {
      redirectUri: redirectUriFor(this.config, integration.key),
      scopes,
      state,
      codeChallenge: await client.calculatePKCECodeChallenge(codeVerifier),
      nonce,
      extraParams: incremental ? integration.provider.auth.incrementalAuthorizationParams : {},
    });
    // The flow state is written before the session is claimed: with Redis
    // away the start fails (503) and the same link works once it is back.
    const ttl = this.config.connect.flowTtlSeconds;
    await this.flows.save(
      state,
      {
        sessionId: session.id,
        tenantId: session.tenantId,
        integrationKey: integration.key,
        endUserId: session.endUserId,
        returnTo: session.returnTo,
        scopes,
        codeVerifier,
        nonce,
        bindingHash: sha256Hex(binding),
        serviceKeyId: session.serviceKeyId,
        reconnect: session.reconnect,
      },
      ttl,
    );
    if (!(await this.sessions.claim(session.id, this.clock.now()))) {
      await this.flows.discard(state);
      throw sessionUsed();
    }
    return {
      authorizationUrl,
      cookie: {
        name: flowCookieName(state),
        value: binding,
        maxAgeSeconds: ttl,
        secure: this.config.http.publicUrl.startsWith('https://'),
      },
    };
  }

  /** A reconnect link outliving a disconnect must not bring the connection back. */
  private async assertNotDisconnected(connectionId: string): Promise<void> {
    const connection = await this.connections.findById(connectionId);
    if (!connection || connection.status === 'revoked')
      throw new NotFoundError('connection_revoked', 'The connection was disconnected');
  }

  private async usableSession(token: string | undefined): Promise<ConnectSession> {
    const session = token
      ? await this.sessions.findByTokenHash(hashSessionToken(token))
      : undefined;
    if (!session)
      throw new NotFoundError('connect_session_not_found', 'This connect link is not valid');
    if (session.startedAt) throw sessionUsed();
    if (session.expiresAt <= this.clock.now())
      throw new GoneError('connect_session_expired', 'This connect link has expired');
    return session;
  }
}

function sessionUsed(): ConflictError {
  return new ConflictError(
    'connect_session_used',
    'This connect link was already used; ask the app for a new one',
  );
}
