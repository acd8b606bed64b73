import { Injectable, Logger } from '@nestjs/common';
import { AppError, ValidationError } from '../common/errors/app-error.js';
import { constantTimeEqual, randomToken, sha256Hex } from '../common/random.js';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { ParkedGrants } from '../parked-grants/parked-grants.service.js';
import { Clock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import { ApiHostRefusedError, resolveApiBase } from '../integrations/api-base.js';
import { missingScopes } from '../integrations/scopes.js';
import { tokenHostFromCallback } from '../integrations/token-host.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { AccountLookupClient } from '../oauth/account-lookup.client.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import type { TokenResult } from '../oauth/token-result.js';
import { ConnectGrants } from './connect-grants.service.js';
import type { ConnectErrorCode, ConnectOutcome } from './connect-outcome.js';
import { ConnectSessionsRepository } from './connect-sessions.repository.js';
import { redirectUriFor } from './connect-urls.js';
import { flowCookieName, type FlowState, FlowStateStore } from './flow-state.store.js';

export interface CallbackRequest {
  integrationKey: string;
  /** The raw query string, passed whole to openid-client (it checks `iss` and `state`). */
  rawQuery: string;
  cookies: Readonly<Record<string, string | undefined>>;
  /** The callback's request id, for the audit row of the connection it creates. */
  requestId?: string;
}

export interface CallbackResult {
  outcome: ConnectOutcome;
  /** The flow cookie to clear, when there was one. */
  clearCookie?: string;
}

/** Finalize tokens carry their own prefix, recognised by log redaction. */
export const FINALIZE_TOKEN_PREFIX = 'tbfz_';

class FlowFailure extends Error {
  constructor(
    readonly code: ConnectErrorCode,
    options?: { cause?: unknown },
  ) {
    super(code, options);
  }
}

/**
 * Ends a connect flow: consumes the state once, checks the browser binding,
 * exchanges the code, checks scopes and identity, and only then stores the
 * grant (or, with requireFinalize, parks it for finalize). Any failure
 * before the write stores nothing.
 */
@Injectable()
export class OAuthCallbackService {
  private readonly logger = new Logger(OAuthCallbackService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly integrations: IntegrationRegistry,
    private readonly flows: FlowStateStore,
    private readonly sessions: ConnectSessionsRepository,
    private readonly oauth: OAuthClient,
    private readonly accounts: AccountLookupClient,
    private readonly grants: ConnectGrants,
    private readonly pendingGrants: ParkedGrants,
    private readonly clock: Clock,
    private readonly connections: ConnectionStore,
  ) {}

  async complete(request: CallbackRequest): Promise<CallbackResult> {
    const params = new URLSearchParams(request.rawQuery);
    const state = params.get('state');
    const flow = state ? await this.flows.consume(state) : undefined;
    if (!state || !flow) {
      // Unknown, forged, expired or replayed: nothing tells us where to go back to.
      throw new ValidationError(
        'invalid_state',
        'This sign-in link is invalid, expired or already used; start again from the app',
      );
    }
    const clearCookie = flowCookieName(state);
    let outcome: ConnectOutcome;
    try {
      const result = await this.finish(request, params, state, flow);
      outcome =
        typeof result === 'string'
          ? { connectionId: result, returnTo: flow.returnTo }
          : { finalize: result, returnTo: flow.returnTo };
    } catch (error) {
      const code = error instanceof FlowFailure ? error.code : 'internal_error';
      this.logFailure(code, flow, error);
      outcome = { error: code, returnTo: flow.returnTo };
    }
    await this.sessions.complete(
      flow.sessionId,
      { connectionId: outcome.connectionId, errorCode: outcome.error },
      this.clock.now(),
    );
    return { outcome, clearCookie };
  }

  private async finish(
    request: CallbackRequest,
    params: URLSearchParams,
    state: string,
    flow: FlowState,
  ): Promise<string | { sessionId: string; token: string }> {
    const binding = request.cookies[flowCookieName(state)];
    if (!binding || !constantTimeEqual(sha256Hex(binding), flow.bindingHash))
      throw new FlowFailure('flow_cookie_mismatch');
    if (request.integrationKey !== flow.integrationKey)
      throw new FlowFailure('integration_mismatch');
    const integration = this.integrations.get(flow.integrationKey);
    if (!integration) throw new FlowFailure('integration_mismatch');
    const providerError = params.get('error');
    if (providerError)
      throw new FlowFailure(providerError === 'access_denied' ? 'access_denied' : 'provider_error');

    const tokens = await this.exchange(integration, request, state, flow);
    await this.assertApiHostAllowed(integration, tokens);
    const missing = missingScopes(integration, tokens.scopes);
    if (missing.length) {
      await this.grants.refuse(integration, tokens);
      throw new FlowFailure('insufficient_scope', {
        cause: new Error(`not granted: ${missing.join(' ')}`),
      });
    }
    const account = await this.accounts
      .identify(integration, tokens, flow.endUserId)
      .catch(async (error: unknown) => {
        await this.grants.refuse(integration, tokens);
        throw new FlowFailure('account_lookup_failed', { cause: error });
      });
    if (flow.reconnect)
      await this.assertReconnectable(flow.reconnect, account, integration, tokens);
    const owner = {
      tenantId: flow.tenantId,
      endUserId: flow.endUserId,
      sessionId: flow.sessionId,
      // No key calls the callback (the browser does): the session's key set it going.
      serviceKeyId: flow.serviceKeyId,
      requestId: request.requestId,
    };
    // A reconnect is bound to the connection's account: someone else opening
    // the link cannot attach their account to it, which is finalize's job.
    if (!integration.requireFinalize || flow.reconnect)
      return this.grants.store(integration, owner, account, tokens);
    if (!flow.endUserId) {
      // Only if requireFinalize was switched on after this session was made.
      await this.grants.refuse(integration, tokens);
      throw new FlowFailure('internal_error', {
        cause: new Error('requireFinalize needs a connect session with an endUserId'),
      });
    }
    const token = `${FINALIZE_TOKEN_PREFIX}${randomToken(32)}`;
    await this.pendingGrants.park({
      id: flow.sessionId,
      tenantId: flow.tenantId,
      integrationKey: integration.key,
      endUserId: flow.endUserId,
      account,
      tokens,
      finalizeTokenHash: sha256Hex(token),
      expiresAt: new Date(this.clock.now().getTime() + this.config.connect.flowTtlSeconds * 1000),
    });
    return { sessionId: flow.sessionId, token };
  }

  /**
   * A reconnect renews one account's connection: another account's grant,
   * or any grant once the connection was disconnected meanwhile, is given
   * back and never stored.
   */
  private async assertReconnectable(
    reconnect: NonNullable<FlowState['reconnect']>,
    account: { id: string },
    integration: Integration,
    tokens: TokenResult,
  ): Promise<void> {
    if (account.id !== reconnect.accountId) {
      await this.grants.refuse(integration, tokens);
      throw new FlowFailure('account_mismatch', {
        cause: new Error(`reconnect of ${reconnect.connectionId} by another account`),
      });
    }
    const connection = await this.connections.findById(reconnect.connectionId);
    if (!connection || connection.status === 'revoked') {
      await this.grants.refuse(integration, tokens);
      throw new FlowFailure('connection_revoked');
    }
  }

  /**
   * A connection whose API host comes from the token answer (Salesforce
   * `instance_url`, Pipedrive `api_domain`) is refused at once when that
   * host is not the provider's: no token is sent there, and the grant is
   * given back. (A host that changes on a later refresh fails its syncs instead.)
   */
  private async assertApiHostAllowed(integration: Integration, tokens: TokenResult): Promise<void> {
    if (!integration.api?.baseUrlFromExtra) return;
    try {
      resolveApiBase(integration.api, tokens.extras, this.config.allowInsecureLoopbackProviders);
    } catch (error) {
      if (!(error instanceof ApiHostRefusedError)) throw error;
      await this.grants.refuse(integration, tokens);
      throw new FlowFailure('api_host_not_allowed', { cause: error });
    }
  }

  private async exchange(
    integration: Integration,
    request: CallbackRequest,
    state: string,
    flow: FlowState,
  ): Promise<TokenResult> {
    const callbackUrl = new URL(redirectUriFor(this.config, integration.key));
    callbackUrl.search = request.rawQuery;
    let tokenHost: string | undefined;
    try {
      // A data centre named by the redirect gets the code only if it is the provider's.
      tokenHost = tokenHostFromCallback(
        integration,
        callbackUrl.searchParams,
        this.config.allowInsecureLoopbackProviders,
      );
    } catch (error) {
      throw new FlowFailure('api_host_not_allowed', { cause: error });
    }
    try {
      return await this.oauth.exchangeCode(integration, {
        tokenHost,
        callbackUrl,
        codeVerifier: flow.codeVerifier,
        state,
        nonce: flow.nonce,
        requestedScopes: flow.scopes,
      });
    } catch (error) {
      throw new FlowFailure('token_exchange_failed', { cause: error });
    }
  }

  private logFailure(code: ConnectErrorCode, flow: FlowState, error: unknown): void {
    const cause = error instanceof FlowFailure ? error.cause : error;
    const detail = cause instanceof AppError ? { errorCode: cause.code } : {};
    const level = code === 'internal_error' ? 'error' : 'warn';
    this.logger[level]({
      msg: 'connect flow failed',
      flowError: code,
      integration: flow.integrationKey,
      tenantId: flow.tenantId,
      sessionId: flow.sessionId,
      ...detail,
      err: cause,
    });
  }
}
