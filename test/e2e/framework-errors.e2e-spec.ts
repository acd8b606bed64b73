import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { type Scenario, startScenario } from '../support/scenario.js';

/** Errors Fastify raises before any route runs still get the envelope, and echo nothing. */
describe('framework errors', () => {
  let s: Scenario;
  let key: string;

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'framework']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  /** A raw request, so malformed URLs and headers reach the server as sent. */
  function raw(
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ) {
    const url = new URL(s.broker.url);
    return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path,
            method: init.method ?? 'GET',
            headers: init.headers,
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end(init.body);
      },
    );
  }

  const secret = 'SECRETCODEVALUE1234567890';

  it.each([
    [
      'a malformed percent-encoding in the path',
      `/v1/oauth/callback/%E0%A4%A?code=${secret}&state=${secret}`,
      {},
      undefined,
    ],
    [
      'a malformed percent-encoding in a path parameter',
      `/v1/connections/%zz/token?x=${secret}`,
      { authorization: `Bearer ${'k'}` },
      undefined,
    ],
    ['an unknown route', `/v1/nope?code=${secret}`, {}, undefined],
    [
      'a body too large',
      '/v1/connect-sessions',
      { 'content-type': 'application/json' },
      'x'.repeat(70_000),
    ],
    [
      'an unsupported content type',
      '/v1/connect-sessions',
      { 'content-type': 'text/plain' },
      'hello',
    ],
    [
      'malformed JSON',
      '/v1/connect-sessions',
      { 'content-type': 'application/json' },
      `{"code":"${secret}"`,
    ],
  ] as Array<[string, string, Record<string, string>, string | undefined]>)(
    '%s',
    async (_what, path, headers, body) => {
      const response = await raw(path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...headers, ...(body !== undefined ? { authorization: `Bearer ${key}` } : {}) },
        body,
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      const parsed = JSON.parse(response.body) as {
        error: { code: string; message: string; requestId: string };
      };
      expect(Object.keys(parsed)).toEqual(['error']);
      expect(parsed.error.code).toMatch(/^[a-z_]+$/);
      expect(typeof parsed.error.requestId).toBe('string');
      expect(response.body).not.toContain(secret);
      expect(response.headers['cache-control']).toBe('no-store');
    },
  );

  it('oversized headers: 431 with the envelope', async () => {
    const response = await raw('/health/live', { headers: { 'x-big': 'a'.repeat(20_000) } });
    expect(response.status).toBe(431);
    expect(JSON.parse(response.body).error.code).toBe('headers_too_large');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('/docs/ with a trailing slash serves the page', async () => {
    const response = await raw('/docs/');
    expect(response.status).toBe(200);
    expect(response.body).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    expect((await raw('/docs/assets/init.js')).body).toContain('"/docs/openapi.json"');
  });

  it('logs them like any other error, without the secret', () => {
    expect(s.broker.logs.text()).not.toContain(secret);
  });
});
