import { Injectable } from '@nestjs/common';
import { ProviderError } from '../common/errors/app-error.js';
import { readStringPath } from '../common/json-path.js';
import { AppConfig } from '../config/app-config.js';
import { createGuardedFetch, type FetchLike } from '../infra/http/guarded-fetch.js';
import type { Integration } from '../integrations/integration.js';
import type { ExternalAccount, TokenResult } from './token-result.js';
import { Clock } from '../infra/clock/clock.js';
import { classifyOAuthError } from './oauth-error.js';

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
    config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.fetch = createGuardedFetch(config.providerHttp);
  }

  async identify(
    integration: Integration,
    tokens: TokenResult,
    endUserId: string | undefined,
  ): Promise<ExternalAccount> {
    const lookup = integration.account;
    switch (lookup.type) {
      case 'id_token': {
        if (!tokens.idTokenClaims) throw lookupFailed('the token response had no ID token');
        const { sub, email, name } = tokens.idTokenClaims;
        return { id: sub, email, name };
      }
      case 'http': {
        const body = await this.getJson(lookup.url, tokens);
        const id = readStringPath(body, lookup.idPath);
        if (!id) throw lookupFailed(`the account response has no value at "${lookup.idPath}"`);
        return {
          id,
          email: readStringPath(body, lookup.emailPath),
          name: readStringPath(body, lookup.namePath),
        };
      }
      case 'end_user':
        return { id: endUserId ?? DEFAULT_ACCOUNT };
    }
  }

  private async getJson(url: string, tokens: TokenResult): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: 'GET',
        headers: {
          authorization: `${tokens.tokenType} ${tokens.accessToken}`,
          accept: 'application/json',
        },
      });
    } catch (error) {
      throw classifyOAuthError(error, 'account lookup', this.clock.now());
    }
    if (!response.ok) {
      throw new ProviderError(
        'account_lookup_failed',
        `The account lookup answered ${response.status}`,
        {
          providerStatus: response.status,
          transient: response.status >= 500 || response.status === 429,
        },
      );
    }
    try {
      return await response.json();
    } catch {
      throw lookupFailed('the account response is not JSON');
    }
  }
}

function lookupFailed(why: string): ProviderError {
  return new ProviderError(
    'account_lookup_failed',
    `Could not identify the connected account: ${why}`,
    {
      transient: false,
    },
  );
}
