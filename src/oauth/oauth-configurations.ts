import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { ProviderError } from '../common/errors/app-error.js';
import { isLoopbackUrl, providerUrlProblem } from '../common/url-policy.js';
import { AppConfig } from '../config/app-config.js';
import type { Integration } from '../integrations/integration.js';
import { onHost } from '../integrations/token-host.js';
import { Clock } from '../infra/clock/clock.js';
import type { FetchLike } from '../infra/http/guarded-fetch.js';
import { ProviderHttp } from '../infra/http/provider-http.js';
import { checkIdToken } from './id-token.js';
import { isFailedAnswer, tokenAnswerError } from './token-endpoint-answer.js';
import { CHECKED_ID_TOKEN_CLAIMS } from './token-response.js';

/**
 * One openid-client Configuration per integration, built once and shared.
 * OIDC integrations are discovered lazily, so a provider that is down at
 * boot does not stop the broker; a failed discovery is retried next time.
 */
@Injectable()
export class OAuthConfigurations {
  private readonly cache = new Map<string, Promise<client.Configuration>>();
  private readonly guarded: FetchLike;

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    http: ProviderHttp,
  ) {
    this.guarded = http.fetch;
  }

  /**
   * `tokenHost`: the connection's own accounts server (a data centre, Zoho),
   * already checked; the token and revocation URLs move onto it.
   */
  get(integration: Integration, tokenHost?: string): Promise<client.Configuration> {
    const key = `${integration.key}|${tokenHost ?? ''}`;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.build(integration, tokenHost);
      pending.catch(() => this.cache.delete(key));
      this.cache.set(key, pending);
    }
    return pending;
  }

  private async build(
    integration: Integration,
    tokenHost: string | undefined,
  ): Promise<client.Configuration> {
    const metadata: Partial<client.ClientMetadata> = {
      client_secret: integration.clientSecret.reveal(),
      token_endpoint_auth_method: integration.tokenEndpointAuthMethod,
      [client.clockTolerance]: 30,
    };
    const auth =
      integration.tokenEndpointAuthMethod === 'client_secret_post'
        ? client.ClientSecretPost(integration.clientSecret.reveal())
        : client.ClientSecretBasic(integration.clientSecret.reveal());
    const tokenUrl = onHost(integration.tokenUrl, tokenHost);
    const revocationUrl = onHost(integration.revocationUrl, tokenHost);
    const insecure = this.allowsInsecure(integration, tokenUrl);
    const timeout = Math.ceil(this.config.providerHttp.timeoutMs / 1000);
    let configuration: client.Configuration;
    if (integration.provider.kind === 'oidc') {
      configuration = await client.discovery(
        new URL(integration.issuer!),
        integration.clientId,
        metadata,
        auth,
        {
          [client.customFetch]: this.fetchFor(integration),
          timeout,
          execute: insecure ? [client.allowInsecureRequests] : [],
        },
      );
      this.checkDiscovered(integration, configuration.serverMetadata());
    } else {
      const server: client.ServerMetadata = {
        // RFC 8414 wants an issuer; plain OAuth2 APIs rarely publish one, and
        // the authorization server's origin is what RFC 9207 `iss` would carry.
        issuer: integration.issuer ?? new URL(integration.authorizationUrl!).origin,
        authorization_endpoint: integration.authorizationUrl,
        token_endpoint: tokenUrl,
        revocation_endpoint: revocationUrl,
      };
      configuration = new client.Configuration(server, integration.clientId, metadata, auth);
      configuration[client.customFetch] = this.fetchFor(integration);
      configuration.timeout = timeout;
      if (insecure) client.allowInsecureRequests(configuration);
    }
    return configuration;
  }

  /**
   * The guarded fetch, reading token endpoint answers first: a failure
   * (including one dressed as a 200, like Zoho's `{"error":"invalid_code"}`)
   * is classified here, by the provider's token-error rules and RFC 6749,
   * so openid-client only ever parses successes.
   */
  private fetchFor(integration: Integration): client.CustomFetch {
    return async (url, options) => {
      const response = await this.guarded(url, options);
      // RFC 7009 §2.2 says 200; openid-client insists on it. Some providers answer 204.
      if (isRevocationRequest(options.body) && response.ok)
        return new Response(null, { status: 200 });
      if (!isTokenRequest(options.body)) return response;
      const text = await response.text();
      const body = parseJson(text);
      const rules = integration.tokenResponse.errors;
      if (isFailedAnswer(rules, response.status, body)) {
        const operation = formOf(options.body)?.get('grant_type');
        throw tokenAnswerError(
          rules,
          response.status,
          body,
          response.headers,
          operation === 'refresh_token' ? 'token refresh' : 'code exchange',
          this.clock.now(),
        );
      }
      return new Response(this.withCheckedIdToken(integration, text, body), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    };
  }

  /**
   * An OAuth2 provider's ID token (Microsoft): openid-client would hold it
   * to the single issuer of the configuration, while Microsoft's names each
   * tenant. It is checked here against the provider's issuer template and
   * passed on as claims; openid-client sees an answer without one.
   */
  private withCheckedIdToken(integration: Integration, text: string, body: unknown): string {
    const answer = body as Record<string, unknown> | undefined;
    // The field that carries checked claims is ours alone: a provider cannot send it.
    if (answer && CHECKED_ID_TOKEN_CLAIMS in answer) {
      delete answer[CHECKED_ID_TOKEN_CLAIMS];
      text = JSON.stringify(answer);
    }
    if (!integration.idTokenIssuer || typeof answer?.id_token !== 'string') return text;
    const { id_token: idToken, ...rest } = answer;
    const claims = checkIdToken(idToken, {
      issuer: integration.idTokenIssuer,
      clientId: integration.clientId,
      now: this.clock.now(),
    });
    return JSON.stringify({ ...rest, [CHECKED_ID_TOKEN_CLAIMS]: claims });
  }

  /**
   * A discovery document is the provider's word, not the operator's: the
   * endpoints it names get the client secret, the PKCE verifier, codes and
   * tokens, or supply the keys ID tokens are checked with, so they pass the
   * same URL policy as configured URLs before the configuration is used
   * (and cached). `allowInsecureRequests`, set for a loopback issuer, would
   * otherwise let plain http to any host through.
   */
  private checkDiscovered(integration: Integration, metadata: client.ServerMetadata): void {
    for (const field of DISCOVERED_ENDPOINTS) {
      const url: unknown = metadata[field];
      if (url === undefined) continue;
      const problem =
        typeof url === 'string'
          ? providerUrlProblem(url, this.config.allowInsecureLoopbackProviders)
          : 'is not a URL';
      if (!problem) continue;
      const host = typeof url === 'string' && URL.canParse(url) ? new URL(url).host : undefined;
      throw new ProviderError(
        'provider_endpoint_not_allowed',
        `The discovery document of integration ${integration.key} names a ${field}${host ? ` on ${host}` : ''} that ${problem}`,
        { transient: false },
      );
    }
  }

  private allowsInsecure(integration: Integration, tokenUrl: string | undefined): boolean {
    if (!this.config.allowInsecureLoopbackProviders) return false;
    const urls = [integration.issuer, integration.authorizationUrl, tokenUrl].filter(
      Boolean,
    ) as string[];
    return urls.every((url) => isLoopbackUrl(new URL(url)));
  }
}

/** The discovered endpoints the broker sends secrets or tokens to, or takes keys from. */
const DISCOVERED_ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'userinfo_endpoint',
  'jwks_uri',
] as const;

/** Token endpoint requests are the form posts that carry a grant_type (RFC 6749 §4.1.3, §6). */
function isTokenRequest(body: unknown): boolean {
  return formOf(body)?.has('grant_type') ?? false;
}

/** Revocation requests carry the token and no grant_type (RFC 7009 §2.1). */
function isRevocationRequest(body: unknown): boolean {
  const form = formOf(body);
  return !!form && form.has('token') && !form.has('grant_type');
}

/** openid-client sends URLSearchParams (under Jest, possibly of another realm: duck-typed). */
function formOf(body: unknown): URLSearchParams | undefined {
  if (typeof body === 'string') return new URLSearchParams(body);
  const form = body as URLSearchParams | null | undefined;
  return typeof form?.get === 'function' && typeof form.has === 'function' ? form : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
