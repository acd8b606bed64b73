import { providerStatusError } from '../common/http/provider-outcome.js';
import { Injectable } from '@nestjs/common';
import { ProviderError } from '../common/errors/app-error.js';
import type { TokenSet } from '../connections/connection.js';
import { Clock } from '../infra/clock/clock.js';
import { type FetchLike, ResponseTooLargeError } from '../infra/http/guarded-fetch.js';
import { ProviderHttp } from '../infra/http/provider-http.js';
import type { AnswerRule } from '../providers/api-model.schema.js';
import {
  type ProviderRequest,
  type ProviderResponse,
  StaleCursorError,
  SyncTokenExpiredError,
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
    private readonly clock: Clock,
    http: ProviderHttp,
  ) {
    this.fetch = http.fetch;
  }

  /**
   * `scheme`: the Authorization scheme the API wants, if not the token type
   * (Zoho: `Zoho-oauthtoken`); `onAnswer` sees every answer's status and
   * headers, errors included (the rate budget learns from them).
   */
  async send(
    request: ProviderRequest,
    tokens: TokenSet,
    scheme = tokens.tokenType,
    onAnswer?: (status: number, headers: Headers) => void,
  ): Promise<ProviderResponse> {
    let response: Response;
    try {
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...request.headers,
        authorization: `${scheme} ${tokens.accessToken}`,
      };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      response = await this.fetch(request.url.href, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
    } catch (error) {
      // A refused address (provider_address_refused) is already classified.
      if (error instanceof ProviderError) throw error;
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
    onAnswer?.(response.status, response.headers);
    if (!response.ok && response.status !== 304) {
      const refusal = await readRefusal(response, request);
      if (refusal === 'stale')
        throw new StaleCursorError(`the provider refused a stored position (${response.status})`);
      if (refusal === 'expired')
        throw new SyncTokenExpiredError(`the provider refused the sync token (${response.status})`);
    }
    if (response.status === 401)
      throw new TokenRejectedError('the provider rejected the access token');
    if (!response.ok && response.status !== 304) {
      throw providerStatusError({
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        now: this.clock.now(),
        message: `The provider API answered ${response.status}`,
      });
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

/** Whether an error answer says a stored position or the sync token expired (by the request's rules). */
async function readRefusal(
  response: Response,
  request: ProviderRequest,
): Promise<'stale' | 'expired' | undefined> {
  if (!request.staleWhen && !request.expiredWhen) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(await response.clone().text());
  } catch {
    body = undefined;
  }
  const matches = (rules: readonly AnswerRule[] | undefined) =>
    (rules ?? []).some(
      (rule) =>
        (rule.status === undefined || rule.status === response.status) &&
        (rule.bodyPath === undefined || readPath(body, rule.bodyPath) === rule.equals),
    );
  if (matches(request.expiredWhen)) return 'expired';
  if (matches(request.staleWhen)) return 'stale';
  return undefined;
}
