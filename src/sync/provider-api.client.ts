import { Injectable } from '@nestjs/common';
import { ProviderError } from '../common/errors/app-error.js';
import { parseRetryAfter } from '../common/http/retry-after.js';
import { AppConfig } from '../config/app-config.js';
import type { TokenSet } from '../connections/connection.js';
import { Clock } from '../infra/clock/clock.js';
import {
  createGuardedFetch,
  type FetchLike,
  ResponseTooLargeError,
} from '../infra/http/guarded-fetch.js';
import {
  type ProviderRequest,
  type ProviderResponse,
  StaleCursorError,
  type StaleCursorRule,
} from './adapters/sync-adapter.js';
import { readPath } from '../common/json-path.js';

/** The provider refused the access token (401): refresh once, then give up. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
}

/**
 * Sends page requests to a provider's REST API with a bearer token, through
 * the guarded fetch (timeout, size cap, no redirects), and says which
 * failures are worth retrying.
 */
@Injectable()
export class ProviderApiClient {
  private readonly fetch: FetchLike;

  constructor(
    config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.fetch = createGuardedFetch(config.providerHttp);
  }

  async send(request: ProviderRequest, tokens: TokenSet): Promise<ProviderResponse> {
    let response: Response;
    try {
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...request.headers,
        authorization: `${tokens.tokenType} ${tokens.accessToken}`,
      };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      response = await this.fetch(request.url.href, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
    } catch (error) {
      if (error instanceof ResponseTooLargeError) {
        throw new ProviderError(
          'provider_response_too_large',
          'A page was larger than PROVIDER_MAX_RESPONSE_BYTES',
          { transient: false },
        );
      }
      throw new ProviderError(
        'provider_unreachable',
        'The provider API could not be reached or timed out',
        { transient: true },
        {
          cause: error,
        },
      );
    }
    if (response.status === 401)
      throw new TokenRejectedError('the provider rejected the access token');
    if (!response.ok && response.status !== 304) {
      if (request.staleWhen && (await says(response, request.staleWhen)))
        throw new StaleCursorError(`the provider refused a stored position (${response.status})`);
      const transient =
        response.status >= 500 || response.status === 429 || response.status === 408;
      throw new ProviderError(
        response.status === 429
          ? 'provider_rate_limited'
          : transient
            ? 'provider_unavailable'
            : 'provider_error',
        `The provider API answered ${response.status}`,
        {
          providerStatus: response.status,
          transient,
          retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after'), this.clock.now()),
        },
      );
    }
    let body: unknown;
    try {
      // 204 (and Zoho's 304 for "nothing changed") carry no body: an empty page.
      const text = await response.text();
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ProviderError(
        'provider_response_invalid',
        'The provider API answered with something other than JSON',
        {
          providerStatus: response.status,
          transient: false,
        },
      );
    }
    return { status: response.status, headers: response.headers, body };
  }
}

/** Whether an error answer matches a rule (its JSON body is read; anything else never matches). */
async function says(response: Response, rule: StaleCursorRule): Promise<boolean> {
  if (rule.status !== undefined && rule.status !== response.status) return false;
  try {
    return readPath(await response.json(), rule.bodyPath) === rule.equals;
  } catch {
    return false;
  }
}
