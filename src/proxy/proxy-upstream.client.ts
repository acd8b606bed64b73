import { Injectable } from '@nestjs/common';
import { errorCodes } from 'fastify';
import { AppError } from '../common/errors/app-error.js';
import { ProviderHttp, type StreamedAnswer } from '../infra/http/provider-http.js';
import type { OutgoingBody } from './proxy-body.js';

export interface UpstreamRequest {
  url: URL;
  method: string;
  /** Forwarded caller headers, without Authorization (added here). */
  headers: Record<string, string>;
  authorization: string;
  body: OutgoingBody;
  signal: AbortSignal;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Sends one proxied request to the provider, through ProviderHttp (the
 * address policy, no redirects), and classifies a failure to get an
 * answer: a timeout is a 504, anything else on the way a 502. Every
 * proxied request leaves through `send`, so a per-connection budget of
 * provider calls belongs at its top.
 */
@Injectable()
export class ProxyUpstreamClient {
  constructor(private readonly http: ProviderHttp) {}

  async send(request: UpstreamRequest): Promise<StreamedAnswer> {
    try {
      return await this.http.exchange(request.url, {
        method: request.method,
        headers: { ...request.headers, authorization: request.authorization },
        body:
          request.body.kind === 'buffered'
            ? request.body.bytes
            : request.body.kind === 'streamed'
              ? request.body.stream
              : undefined,
        signal: request.signal,
      });
    } catch (error) {
      throw upstreamFailure(error);
    }
  }
}

function upstreamFailure(error: unknown): unknown {
  // Already ours (provider_address_refused), or the caller's body past the limit (413).
  if (error instanceof AppError || error instanceof errorCodes.FST_ERR_CTP_BODY_TOO_LARGE)
    return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const causeCode = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (TIMEOUT_CODES.has(String(code)) || TIMEOUT_CODES.has(String(causeCode))) {
    return new AppError(
      'gateway_timeout',
      'proxy_upstream_timeout',
      'The provider did not answer in time',
      { cause: error },
    );
  }
  return new AppError(
    'provider',
    'proxy_upstream_unreachable',
    'The provider could not be reached',
    { cause: error },
  );
}
