import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { isLoopbackUrl } from '../common/url-policy.js';
import { AppConfig } from '../config/app-config.js';
import type { Integration } from '../integrations/integration.js';
import { createGuardedFetch } from '../infra/http/guarded-fetch.js';

/**
 * One openid-client Configuration per integration, built once and shared.
 * OIDC integrations are discovered lazily, so a provider that is down at
 * boot does not stop the broker; a failed discovery is retried next time.
 */
@Injectable()
export class OAuthConfigurations {
  private readonly cache = new Map<string, Promise<client.Configuration>>();
  private readonly fetch: client.CustomFetch;

  constructor(private readonly config: AppConfig) {
    const guarded = createGuardedFetch(config.providerHttp);
    this.fetch = (url, options) => guarded(url, options);
  }

  get(integration: Integration): Promise<client.Configuration> {
    let pending = this.cache.get(integration.key);
    if (!pending) {
      pending = this.build(integration);
      pending.catch(() => this.cache.delete(integration.key));
      this.cache.set(integration.key, pending);
    }
    return pending;
  }

  private async build(integration: Integration): Promise<client.Configuration> {
    const metadata: Partial<client.ClientMetadata> = {
      client_secret: integration.clientSecret.reveal(),
      token_endpoint_auth_method: integration.tokenEndpointAuthMethod,
      [client.clockTolerance]: 30,
    };
    const auth =
      integration.tokenEndpointAuthMethod === 'client_secret_post'
        ? client.ClientSecretPost(integration.clientSecret.reveal())
        : client.ClientSecretBasic(integration.clientSecret.reveal());
    const insecure = this.allowsInsecure(integration);
    const timeout = Math.ceil(this.config.providerHttp.timeoutMs / 1000);
    let configuration: client.Configuration;
    if (integration.provider.kind === 'oidc') {
      configuration = await client.discovery(
        new URL(integration.issuer!),
        integration.clientId,
        metadata,
        auth,
        {
          [client.customFetch]: this.fetch,
          timeout,
          execute: insecure ? [client.allowInsecureRequests] : [],
        },
      );
    } else {
      const server: client.ServerMetadata = {
        // RFC 8414 wants an issuer; plain OAuth2 APIs rarely publish one, and
        // the authorization server's origin is what RFC 9207 `iss` would carry.
        issuer: integration.issuer ?? new URL(integration.authorizationUrl!).origin,
        authorization_endpoint: integration.authorizationUrl,
        token_endpoint: integration.tokenUrl,
        revocation_endpoint: integration.revocationUrl,
      };
      configuration = new client.Configuration(server, integration.clientId, metadata, auth);
      configuration[client.customFetch] = this.fetch;
      configuration.timeout = timeout;
      if (insecure) client.allowInsecureRequests(configuration);
    }
    return configuration;
  }

  private allowsInsecure(integration: Integration): boolean {
    if (!this.config.allowInsecureLoopbackProviders) return false;
    const urls = [integration.issuer, integration.authorizationUrl, integration.tokenUrl].filter(
      Boolean,
    ) as string[];
    return urls.every((url) => isLoopbackUrl(new URL(url)));
  }
}
