import { describe, expect, it } from '@jest/globals';
import { AppError } from '../common/errors/app-error.js';
import { forwardedRequestHeaders, passedBackHeaders } from './proxy-headers.js';

describe('proxy headers', () => {
  it('forwards the request headers except credentials, hop-by-hop and forwarding ones', () => {
    expect(
      forwardedRequestHeaders({
        authorization: 'Bearer tbk_service_key',
        cookie: 'session=1',
        host: 'broker.internal',
        'proxy-authorization': 'Basic x',
        'proxy-connection': 'keep-alive',
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'broker',
        forwarded: 'for=10.0.0.1',
        'x-http-method-override': 'DELETE',
        'x-method-override': 'DELETE',
        'x-http-method': 'DELETE',
        'x-real-ip': '10.0.0.2',
        'true-client-ip': '10.0.0.3',
        connection: 'keep-alive, X-Secret-Hop',
        'keep-alive': 'timeout=5',
        'x-secret-hop': '1',
        te: 'trailers',
        trailer: 'x',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        'content-length': '12',
        'content-type': 'application/json',
        accept: 'application/json',
        'idempotency-key': 'op-1',
        'x-custom': ['a', 'b'],
      }),
    ).toEqual({
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': 'op-1',
      'x-custom': 'a, b',
    });
  });

  it('refuses a value with CR, LF or NUL (400, nothing sent)', () => {
    for (const value of ['a\r\nInjected: 1', 'a\nb', 'a\u0000b']) {
      let code = 'accepted';
      try {
        forwardedRequestHeaders({ 'x-evil': value });
      } catch (error) {
        code = (error as AppError).code;
      }
      expect(code).toBe('proxy_header_invalid');
    }
  });

  it('passes back content, caching and rate-limit headers, never Set-Cookie', () => {
    expect(
      passedBackHeaders({
        'content-type': 'application/json',
        'content-length': '10',
        'content-encoding': 'gzip',
        etag: '"1"',
        'last-modified': 'x',
        'cache-control': 'no-cache',
        'retry-after': '5',
        location: '/v1/contacts/2',
        'x-ratelimit-remaining': '9',
        'ratelimit-policy': '10;w=1',
        'sforce-limit-info': 'api-usage=1/100',
        'x-hubspot-ratelimit-daily': '1000',
        'set-cookie': ['a=1'],
        server: 'nginx',
        'strict-transport-security': 'max-age=1',
        'www-authenticate': 'Bearer error="invalid_token"',
        connection: 'keep-alive',
      }),
    ).toEqual({
      'content-type': 'application/json',
      'content-length': '10',
      'content-encoding': 'gzip',
      etag: '"1"',
      'last-modified': 'x',
      'cache-control': 'no-cache',
      'retry-after': '5',
      location: '/v1/contacts/2',
      'x-ratelimit-remaining': '9',
      'ratelimit-policy': '10;w=1',
      'sforce-limit-info': 'api-usage=1/100',
      'x-hubspot-ratelimit-daily': '1000',
    });
  });
});
