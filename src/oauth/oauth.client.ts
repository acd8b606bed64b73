import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { Clock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import { OAuthConfigurations } from './oauth-configurations.js';
import { classifyOAuthError } from './oauth-error.js';
import type { TokenResult } from './token-result.js';
import { toTokenResult } from './token-response.js';

export interface AuthorizationRequest {
  redirectUri: string;
  scopes: readonly string[];
  state: string;
  /** Sent when the integration uses PKCE (RFC 7636 S256). */
  codeChallenge: string;
  nonce?: string;
}

export interface CodeExchange {
  /** The full callback URL as the provider sent the browser to it (with `iss`). */
  callbackUrl: URL;
  codeVerifier: string;
  state: string;
  nonce?: string;
  requestedScopes: readonly string[];
}

/** Every OAuth call to a provider goes through here (openid-client). */
@Injectable()
export class OAuthClient {
  constructor(
    private readonly configurations: OAuthConfigurations,
    private readonly clock: Clock,
  ) {}

  async authorizationUrl(integration: Integration, request: AuthorizationRequest): Promise<URL> {
    const config = await this.call('discovery', () => this.configurations.get(integration));
    const params: Record<string, string> = {
      ...integration.authorizationParams,
      redirect_uri: request.redirectUri,
      response_type: 'code',
      state: request.state,
    };
    if (integration.pkce) {
      params.code_challenge = request.codeChallenge;
      params.code_challenge_method = 'S256';
    }
    if (request.scopes.length) params.scope = request.scopes.join(integration.scopeSeparator);
    if (request.nonce) params.nonce = request.nonce;
    return client.buildAuthorizationUrl(config, params);
  }

  async exchangeCode(integration: Integration, exchange: CodeExchange): Promise<TokenResult> {
    const sentAt = this.clock.now();
    const response = await this.call('code exchange', async () => {
      const config = await this.configurations.get(integration);
      return client.authorizationCodeGrant(config, exchange.callbackUrl, {
        pkceCodeVerifier: integration.pkce ? exchange.codeVerifier : undefined,
        expectedState: exchange.state,
        ...(integration.provider.kind === 'oidc'
          ? { expectedNonce: exchange.nonce, idTokenExpected: true }
          : {}),
      });
    });
    return toTokenResult(response, integration, exchange.requestedScopes, sentAt);
  }

  /**
   * `previousScopes` stand in for the granted scopes when the refresh
   * response omits `scope` (RFC 6749 §6: the scope is unchanged).
   */
  async refresh(
    integration: Integration,
    refreshToken: string,
    previousScopes: readonly string[],
  ): Promise<TokenResult> {
    const sentAt = this.clock.now();
    const response = await this.call('token refresh', async () => {
      const config = await this.configurations.get(integration);
      return client.refreshTokenGrant(config, refreshToken);
    });
    return toTokenResult(response, integration, previousScopes, sentAt);
  }

  /** RFC 7009 revocation; false when the provider has none (or no endpoint is known). */
  async revoke(
    integration: Integration,
    token: string,
    hint: 'refresh_token' | 'access_token',
  ): Promise<boolean> {
    if (integration.revocation === 'none') return false;
    return this.call('revocation', async () => {
      const config = await this.configurations.get(integration);
      if (!config.serverMetadata().revocation_endpoint) return false;
      await client.tokenRevocation(config, token, { token_type_hint: hint });
      return true;
    });
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw classifyOAuthError(error, operation, this.clock.now());
    }
  }
}
