import { providerStatusError } from '../common/http/provider-outcome.js';
import { Injectable } from '@nestjs/common';
import { ProviderError } from '../common/errors/app-error.js';
import { readStringPath } from '../common/json-path.js';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../infra/clock/clock.js';
import type { FetchLike } from '../infra/http/guarded-fetch.js';
import { ProviderHttp } from '../infra/http/provider-http.js';
import { resolveApiBase } from '../integrations/api-base.js';
import type { Integration } from '../integrations/integration.js';
import { classifyOAuthError } from './oauth-error.js';
import type { ExternalAccount, TokenResult } from './token-result.js';

/** The grant's subject when the provider has no account concept of its own. */
const DEFAULT_ACCOUNT = 'default';

/**
 * Finds out which external account a new grant belongs to, so reconnecting
 * the same account updates its connection instead of creating a twin.
 */
@Injectable()
export class AccountLookupClient {
  private readonly fetch: FetchLike;

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    http: ProviderHttp,
  ) {
    this.fetch = http.fetch;
  }

  async identify(
    integration: Integration,
    tokens: TokenResult,
    endUserId: string | undefined,
  ): Promise<ExternalAccount> {
    const lookup = integration.account;
    switch (lookup.type) {
      case 'id_token': {
        const claims = tokens.idTokenClaims;
        if (!claims) throw lookupFailed('the token response had no ID token');
        // Microsoft: `tid` and `oid` ("If you need to share data across services, oid and tid is best").
        const parts = (lookup.idClaims ?? ['sub']).map((name) => claims[name]);
        if (parts.some((part) => !part)) throw lookupFailed('the ID token lacks an id claim');
        const account: ExternalAccount = { id: parts.join('/') };
        // Microsoft's `preferred_username` is usually the sign-in address (mutable: never the id).
        const username = claims.preferred_username;
        const email = claims.email ?? (username?.includes('@') ? username : undefined);
        if (email) account.email = email;
        if (claims.name) account.name = claims.name;
        return account;
      }
      case 'token_response':
        return pickAccount(tokens.responseFields ?? {}, lookup, 'token response');
      case 'http': {
        // Calls on the API host use its Authorization scheme (Zoho: Zoho-oauthtoken).
        const apiScheme = integration.api?.authorizationScheme;
        const first = pickAccount(
          lookup.url
            ? await this.getJson(lookup.url, tokens)
            : await this.getJson(
                this.onApiHost(integration, tokens, lookup.path!),
                tokens,
                apiScheme,
              ),
          lookup,
          'account response',
        );
        if (!lookup.then) return first;
        // Zoho: the organisation, then the user in it.
        const thenUrl = this.onApiHost(integration, tokens, lookup.then.path);
        const second = pickAccount(
          await this.getJson(thenUrl, tokens, apiScheme),
          lookup.then,
          'account response',
        );
        return {
          id: `${first.id}/${second.id}`,
          ...((second.email ?? first.email) ? { email: second.email ?? first.email } : {}),
          ...((second.name ?? first.name) ? { name: second.name ?? first.name } : {}),
        };
      }
      case 'end_user':
        return { id: endUserId ?? DEFAULT_ACCOUNT };
    }
  }

  /** A lookup relative to the API base: the connection's own host, checked before the token goes there. */
  private onApiHost(integration: Integration, tokens: TokenResult, path: string): string {
    const base = resolveApiBase(
      integration.api!,
      tokens.extras,
      this.config.allowInsecureLoopbackProviders,
    );
    return base + path;
  }

  private async getJson(
    url: string,
    tokens: TokenResult,
    scheme: string = tokens.tokenType,
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: 'GET',
        headers: {
          authorization: `${scheme} ${tokens.accessToken}`,
          accept: 'application/json',
        },
      });
    } catch (error) {
      throw classifyOAuthError(error, 'account lookup', this.clock.now());
    }
    if (!response.ok) {
      // Transient answers (408, 429, 5xx) stay retryable; a refusal is account_lookup_failed.
      throw providerStatusError({
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        now: this.clock.now(),
        message: `The account lookup answered ${response.status}`,
        refusedCode: 'account_lookup_failed',
      });
    }
    try {
      return await response.json();
    } catch {
      throw lookupFailed('the account response is not JSON');
    }
  }
}

interface AccountFields {
  idPath: string | string[];
  idPattern?: string;
  emailPath?: string;
  namePath?: string;
}

/**
 * The account's id (several paths joined with `/`, or the capture groups of
 * `idPattern`), e-mail and name, from a JSON document.
 */
export function pickAccount(body: unknown, fields: AccountFields, what: string): ExternalAccount {
  const paths = Array.isArray(fields.idPath) ? fields.idPath : [fields.idPath];
  const parts = paths.map((path) => readStringPath(body, path));
  const missing = paths.find((_, i) => !parts[i]);
  if (missing !== undefined) throw lookupFailed(`the ${what} has no value at "${missing}"`);
  let id = parts.join('/');
  if (fields.idPattern) {
    const match = new RegExp(fields.idPattern).exec(id);
    if (!match || match.length < 2)
      throw lookupFailed(`the ${what}'s "${paths.join(', ')}" does not look as expected`);
    id = match.slice(1).join('/');
  }
  const account: ExternalAccount = { id };
  const email = readStringPath(body, fields.emailPath);
  const name = readStringPath(body, fields.namePath);
  if (email) account.email = email;
  if (name) account.name = name;
  return account;
}

function lookupFailed(why: string): ProviderError {
  return new ProviderError(
    'account_lookup_failed',
    `Could not identify the connected account: ${why}`,
    { transient: false },
  );
}
