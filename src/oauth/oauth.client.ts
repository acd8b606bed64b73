import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../infra/clock/clock.js';
import { storedTokenHost } from '../integrations/token-host.js';
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
  /** More parameters for this request only (incremental consent: `include_granted_scopes`). */
  extraParams?: Readonly<Record<string, string>>;
}

export interface CodeExchange {
  /** The connection's own accounts server (Zoho data centres), checked; else the integration's token URL. */
  tokenHost?: string;
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
    private readonly config: AppConfig,
    private readonly configurations: OAuthConfigurations,
    private readonly clock: Clock,
  ) {}

  async authorizationUrl(integration: Integration, request: AuthorizationRequest): Promise<URL> {
    const config = await this.call('discovery', () => this.configurations.get(integration));
    const params: Record<string, string> = {
      ...integration.authorizationParams,
      ...request.extraParams,
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
      const config = await this.configurations.get(integration, exchange.tokenHost);
      return client.authorizationCodeGrant(config, exchange.callbackUrl, {
        pkceCodeVerifier: integration.pkce ? exchange.codeVerifier : undefined,
        expectedState: exchange.state,
        ...(integration.provider.kind === 'oidc'
          ? { expectedNonce: exchange.nonce, idTokenExpected: true }
          : {}),
      });
    });
    const result = toTokenResult(response, integration, exchange.requestedScopes, sentAt);
    // Kept with the tokens: refreshes and revocation go to the same server.
    const keep = integration.tokenHostFromCallback;
    if (keep && exchange.tokenHost) result.extras[keep.extra] = exchange.tokenHost;
    return result;
  }

  /**
   * The previous scopes stand in for the granted ones when the refresh
   * response omits `scope` (RFC 6749 §6: the scope is unchanged); the
   * previous extras say which accounts server the grant lives on.
   */
  async refresh(
    integration: Integration,
    refreshToken: string,
    previous: { scopes: readonly string[]; extras: Readonly<Record<string, string>> },
  ): Promise<TokenResult> {
    const sentAt = this.clock.now();
    const tokenHost = this.tokenHostOf(integration, previous.extras);
    const response = await this.call('token refresh', async () => {
      const config = await this.configurations.get(integration, tokenHost);
      return client.refreshTokenGrant(config, refreshToken);
    });
    return toTokenResult(response, integration, previous.scopes, sentAt);
  }

  /** RFC 7009 revocation; false when the provider has none (or no endpoint is known). */
  async revoke(
    integration: Integration,
    token: string,
    hint: 'refresh_token' | 'access_token',
    extras: Readonly<Record<string, string>> = {},
  ): Promise<boolean> {
    if (integration.revocation === 'none') return false;
    const tokenHost = this.tokenHostOf(integration, extras);
    return this.call('revocation', async () => {
      const config = await this.configurations.get(integration, tokenHost);
      if (!config.serverMetadata().revocation_endpoint) return false;
      await client.tokenRevocation(config, token, { token_type_hint: hint });
      return true;
    });
  }

  /** The grant's own accounts server (checked again: it is about to receive a secret). */
  private tokenHostOf(
    integration: Integration,
    extras: Readonly<Record<string, string>>,
  ): string | undefined {
    return storedTokenHost(integration, extras, this.config.allowInsecureLoopbackProviders);
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw classifyOAuthError(error, operation, this.clock.now());
    }
  }
}
