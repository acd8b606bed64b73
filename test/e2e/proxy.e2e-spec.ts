import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

type Answer = { status: number; headers: http.IncomingHttpHeaders; text: string; json(): any };

/**
 * The API proxy on real parts: a broker on PostgreSQL and Redis, oidc-provider
 * issuing the tokens, the sandbox CRM as the provider. Requests go out with
 * node:http (not fetch), so paths reach the broker exactly as written.
 */
describe('API proxy', () => {
  let s: Scenario;
  let adminKey: string;
  let proxyKey: string;
  let tokenKey: string;
  let id: string;
  const needle = `needle-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    s = await startScenario({
      accessTokenTtlSeconds: 120,
      env: {
        // No cooldown: these tests program one-off 401s to tokens the authorization server
        // still honours, back to back, to check refresh-and-retry; inside a cooldown the
        // second would rightly be passed back as a fresh token refused again. The cooldown
        // itself (a provider refusing every token) is proxy-feedback.e2e-spec's.
        REFRESH_COOLDOWN_SECONDS: '0',
        PROXY_MAX_BODY_BYTES: String(2 * 1024 * 1024),
        PROVIDER_TIMEOUT_MS: '2000',
        // Below the echo of the 1.5 MiB upload: the proxy streams answers, it never buffers them.
        PROVIDER_MAX_RESPONSE_BYTES: String(1024 * 1024),
      },
    });
    adminKey = await s.cliCreateKey(['--name', 'admin']);
    proxyKey = await s.cliCreateKey(['--name', 'crm-caller', '--action', 'proxy']);
    tokenKey = await s.cliCreateKey(['--name', 'token-reader', '--action', 'token']);
    s.sandbox.crm.seed('contacts', 30);
    id = await s.connectOk(adminKey, { tenantId: 'tenant-proxy' });
  });

  afterAll(async () => {
    await s?.stop();
  });

  const send = (
    path: string,
    init: {
      method?: string;
      key?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      /** Sent in these chunks, without Content-Length. */
      chunks?: Buffer[];
    } = {},
  ) =>
    new Promise<Answer>((resolve, reject) => {
      const url = new URL(s.broker.url);
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: init.method ?? 'GET',
          headers: {
            ...(init.key === undefined ? { authorization: `Bearer ${proxyKey}` } : {}),
            ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
            ...init.headers,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: response.statusCode!,
              headers: response.headers,
              text,
              json: () => JSON.parse(text),
            });
          });
        },
      );
      request.on('error', reject);
      if (!init.chunks) return void request.end(init.body);
      for (const chunk of init.chunks) request.write(chunk);
      request.end();
    });

  /** A request written byte by byte on a socket: what node:http would refuse to send. */
  const sendRaw = (head: string) =>
    new Promise<string>((resolve) => {
      const url = new URL(s.broker.url);
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(head));
      let out = '';
      socket.on('data', (chunk) => (out += chunk.toString('latin1')));
      socket.on('end', () => resolve(out));
      socket.on('error', () => resolve(out));
      setTimeout(() => socket.end(), 2_000);
    });

  const proxied = (path: string) => `/v1/proxy/${id}${path}`;
  const accessTokens = () => [...s.sandbox.auth.issuedSecrets];
  const crmAuthorizations = () =>
    s.sandbox.crm.requests.map((r) => r.authorization ?? '').filter(Boolean);

  it('lists contacts across token expiries: every call succeeds, one refresh per expiry, no token or key crosses', async () => {
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    const seen: Answer[] = [];
    for (let round = 0; round < 3; round += 1) {
      for (let call = 0; call < 3; call += 1)
        seen.push(await send(proxied('/v1/contacts?limit=5')));
      expect(s.sandbox.auth.counters.refreshGrants - refreshes).toBe(round);
      // Past the point where a worker renews the token: the next call refreshes first.
      s.clock.advance(90_000);
    }
    // A burst right after an expiry still makes one refresh.
    const burst = await Promise.all(
      Array.from({ length: 8 }, () => send(proxied('/v1/contacts?limit=5'))),
    );
    seen.push(...burst);
    expect(s.sandbox.auth.counters.refreshGrants - refreshes).toBe(3);
    for (const answer of seen) {
      expect(answer.status).toBe(200);
      expect(answer.json().data).toHaveLength(5);
      expect(answer.headers['content-type']).toBe('application/json');
    }
    // The provider refused the token it had (revoked early): one shared refresh, every call retried once.
    s.sandbox.auth.expireAccessTokens();
    const before = s.sandbox.auth.counters.refreshGrants;
    const retried = await Promise.all(
      Array.from({ length: 6 }, () => send(proxied('/v1/contacts?limit=2'))),
    );
    expect(retried.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(s.sandbox.auth.counters.refreshGrants - before).toBe(1);

    // The CRM saw access tokens only; the caller saw no token.
    const authorizations = crmAuthorizations();
    expect(authorizations.length).toBeGreaterThan(0);
    for (const header of authorizations) {
      expect(header).toMatch(/^Bearer /);
      expect(header).not.toContain(proxyKey);
      expect(header).not.toContain(adminKey);
    }
    const tokens = accessTokens();
    expect(tokens.length).toBeGreaterThan(3);
    for (const answer of [...seen, ...retried]) {
      const everything = answer.text + JSON.stringify(answer.headers);
      for (const token of tokens) expect(everything).not.toContain(token);
    }
  }, 60_000);

  it('refuses paths that would leave the base URL, and header injection, before anything is sent', async () => {
    const crmRequests = s.sandbox.crm.counters.requests;
    const paths = [
      '/v1/../admin',
      '/v1/%2e%2e/admin',
      '/v1/%2E./admin',
      '/v1/.%2e/admin',
      '/./v1/contacts',
      '/v1%2Fcontacts',
      '/v1%2fcontacts',
      '/v1%5ccontacts',
      '/v1\\contacts',
      '/..\\admin',
      '//evil.example',
      '//evil.example/x',
      '/https://evil.example/x',
      '/https:%2F%2Fevil.example/x',
      '/javascript:alert(1)',
      '/v1/%252e%252e/admin',
      '/v1/contacts%00',
      '/v1/contacts%0d%0aX-Evil:%201',
    ];
    for (const path of paths) {
      const answer = await send(proxied(path));
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect({ path, code: answer.json().error.code }).toEqual({
        path,
        code: 'proxy_path_invalid',
      });
    }
    // CR, LF (obs-fold too) and NUL in a header value, a tab in the target: Node's parser
    // refuses them all (400 bad_request) before any route runs; the proxy's own header
    // check (proxy_header_invalid, unit-tested) is the second line.
    const heads = [
      `GET ${proxied('/v1/contacts')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${proxyKey}\r\nX-Evil: a\r\n b: injected\r\nConnection: close\r\n\r\n`,
      `GET ${proxied('/v1/contacts')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${proxyKey}\r\nX-Evil: a\rInjected: 1\r\nConnection: close\r\n\r\n`,
      `GET ${proxied('/v1/contacts')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${proxyKey}\r\nX-Evil: a\u0000b\r\nConnection: close\r\n\r\n`,
      `GET ${proxied('/v1/con\ttacts')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${proxyKey}\r\nConnection: close\r\n\r\n`,
    ];
    for (const head of heads) {
      const out = await sendRaw(head);
      expect({ head, status: out.slice(0, 12) }).toEqual({ head, status: 'HTTP/1.1 400' });
    }
    expect(s.sandbox.crm.counters.requests).toBe(crmRequests);
  }, 30_000);

  it('keeps tokens and the proxy apart by action', async () => {
    const token = await send(`/v1/connections/${id}/token`, { key: proxyKey });
    expect(token.status).toBe(403);
    expect(token.json().error.code).toBe('action_not_granted');
    expect(token.text).not.toMatch(/accessToken/);
    const crmRequests = s.sandbox.crm.counters.requests;
    const proxy = await send(proxied('/v1/contacts'), { key: tokenKey });
    expect(proxy.status).toBe(403);
    expect(proxy.json().error.code).toBe('action_not_granted');
    expect(s.sandbox.crm.counters.requests).toBe(crmRequests);
    // Another tenant's key: the connection does not exist for it.
    const otherTenant = await s.cliCreateKey(['--name', 'other', '--tenant', 'tenant-else']);
    const hidden = await send(proxied('/v1/contacts'), { key: otherTenant });
    expect(hidden.status).toBe(404);
    expect(hidden.json().error.code).toBe('connection_not_found');
    expect(s.sandbox.crm.counters.requests).toBe(crmRequests);
  });

  it('a provider 401 on a POST: passed back without a retry, unless the request carries Idempotency-Key', async () => {
    const body = JSON.stringify({ name: 'Ada' });
    const headers = { 'content-type': 'application/json' };
    let crmRequests = s.sandbox.crm.counters.requests;
    s.sandbox.crm.faults.push({ status: 401 });
    const plain = await send(proxied('/v1/echo'), { method: 'POST', headers, body });
    expect(plain.status).toBe(401);
    // Not sent again, but the token was replaced for the next call.
    expect(plain.headers['x-token-broker-refresh']).toBe('refreshed');
    expect(s.sandbox.crm.counters.requests - crmRequests).toBe(1);

    crmRequests = s.sandbox.crm.counters.requests;
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    const tokensBefore = new Set(crmAuthorizations());
    s.sandbox.crm.faults.push({ status: 401 });
    const idempotent = await send(proxied('/v1/echo'), {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'op-1' },
      body,
    });
    expect(idempotent.status).toBe(200);
    expect(idempotent.json()).toMatchObject({ method: 'POST', body });
    expect(idempotent.json().headers['idempotency-key']).toBe('op-1');
    expect(s.sandbox.crm.counters.requests - crmRequests).toBe(2);
    expect(s.sandbox.auth.counters.refreshGrants - refreshes).toBeLessThanOrEqual(1);
    // The retry carried a token the CRM had not seen before the 401.
    expect(tokensBefore.has(s.sandbox.crm.requests.at(-1)!.authorization!)).toBe(false);
  });

  it('passes a provider 429 back with its Retry-After, without retrying', async () => {
    const crmRequests = s.sandbox.crm.counters.requests;
    s.sandbox.crm.faults.push({ status: 429, retryAfter: '7' });
    const answer = await send(proxied('/v1/contacts'));
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('7');
    expect(answer.json()).toEqual({ error: 'sandbox_fault' });
    expect(s.sandbox.crm.counters.requests - crmRequests).toBe(1);
  });

  it('forwards the query string and the body exactly, and passes back status, content and rate-limit headers only', async () => {
    const query = `a=1&b=x%20y&b=2&empty=&q=${needle}&t=%E2%9C%93`;
    const body = `{"exact":"body","needle":"${needle}","unicode":"✓"}`;
    const answer = await send(proxied(`/v1/echo/items?${query}&status=201`), {
      method: 'PATCH',
      headers: {
        'content-type': 'application/merge-patch+json; charset=utf-8',
        cookie: 'broker_session=caller-cookie',
        'x-forwarded-for': '10.0.0.1',
        'proxy-authorization': 'Basic Y2FsbGVy',
        'x-custom': 'kept',
        connection: 'x-hop',
        'x-hop': 'dropped',
      },
      body,
    });
    expect(answer.status).toBe(201);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    const echo = answer.json();
    expect(echo).toMatchObject({
      method: 'PATCH',
      path: '/v1/echo/items',
      rawQuery: `${query}&status=201`,
      contentType: 'application/merge-patch+json; charset=utf-8',
      body,
    });
    expect(echo.headers['x-custom']).toBe('kept');
    for (const dropped of ['cookie', 'x-forwarded-for', 'proxy-authorization', 'x-hop'])
      expect({ dropped, value: echo.headers[dropped] }).toEqual({ dropped, value: undefined });
    expect(answer.headers.etag).toBe('"echo-1"');
    expect(answer.headers['x-ratelimit-remaining']).toBe('99');
    expect(answer.headers['sforce-limit-info']).toBe('api-usage=1/15000');
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(answer.headers['x-internal-trace']).toBeUndefined();

    // HEAD: the provider's headers, no body.
    const head = await send(proxied('/v1/echo/items'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe('"echo-1"');
    expect(head.text).toBe('');
    expect(s.sandbox.crm.requests.at(-1)!.method).toBe('HEAD');

    // Bodies past the JSON routes' 64 KiB stream through, byte for byte; past the proxy's own limit, 413 and nothing sent.
    const big = randomBytes(1536 * 1024);
    const binary = await send(proxied('/v1/echo/upload'), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: big,
    });
    expect(binary.status).toBe(200);
    expect(binary.json()).toMatchObject({
      bodyBytes: big.byteLength,
      contentType: 'application/octet-stream',
    });
    expect(binary.text.length).toBeGreaterThan(1024 * 1024);
    const crmRequests = s.sandbox.crm.counters.requests;
    const tooBig = await send(proxied('/v1/echo/upload'), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: randomBytes(3 * 1024 * 1024),
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json().error.code).toBe('payload_too_large');
    expect(s.sandbox.crm.counters.requests).toBe(crmRequests);
  }, 30_000);

  it('a body past the limit without Content-Length: 413 once the limit is crossed', async () => {
    const answer = await send(proxied('/v1/echo/upload'), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      chunks: Array.from({ length: 12 }, () => randomBytes(256 * 1024)),
    });
    expect(answer.status).toBe(413);
    expect(answer.json().error.code).toBe('payload_too_large');
  }, 30_000);

  it('a provider that does not answer in time: 504 proxy_upstream_timeout', async () => {
    s.sandbox.crm.faults.push({ status: 200, delayMs: 3_000 });
    const answer = await send(proxied('/v1/contacts'));
    expect(answer.status).toBe(504);
    expect(answer.json().error.code).toBe('proxy_upstream_timeout');
  }, 30_000);

  it('audits each call (route form, status; no query value) and logs no token, key or query value', async () => {
    await eventually(async () => {
      const rows = await withDb(
        async (db) =>
          (
            await db.query(
              "SELECT * FROM audit_events WHERE action = 'proxy.request' AND connection_id = $1",
              [id],
            )
          ).rows,
      );
      expect(rows.length).toBeGreaterThan(20);
      expect(JSON.stringify(rows)).not.toContain(needle);
      expect(rows.find((r) => r.detail.route === '/v1/echo/items')?.detail).toMatchObject({
        method: 'PATCH',
        status: 201,
      });
      expect(rows.every((r) => r.service_key_id && r.request_id && r.tenant_id)).toBe(true);
      // The token-only key's attempt is audited as a refused request on this connection.
      const refused = await withDb(
        async (db) =>
          (
            await db.query(
              "SELECT detail FROM audit_events WHERE action = 'request.refused' AND connection_id = $1",
              [id],
            )
          ).rows,
      );
      expect(refused.map((r) => r.detail.action)).toContain('proxy');
      // Refreshes the proxy made name it, with the caller's key and request.
      const refreshed = await withDb(
        async (db) =>
          (
            await db.query(
              "SELECT detail, service_key_id, request_id FROM audit_events WHERE action = 'token.refreshed' AND connection_id = $1",
              [id],
            )
          ).rows,
      );
      const triggers = refreshed.map((r) => r.detail.trigger);
      expect(triggers).toEqual(expect.arrayContaining(['proxy', 'proxy_rejected']));
      expect(
        refreshed
          .filter((r) => r.detail.trigger.startsWith('proxy'))
          .every((r) => r.service_key_id && r.request_id),
      ).toBe(true);
      // Calls that ended at the broker are there too, with the status the caller got.
      expect(rows.filter((r) => r.detail.status === 413).length).toBeGreaterThanOrEqual(1);
    });
    const metrics = await (await fetch(`${s.broker.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `tb_proxy_requests_total\\{integration="${s.integration}",method="GET",status="200"\\}`,
      ),
    );
    expect(metrics).not.toContain(id);
    const logs = s.logText();
    expect(logs).toContain('/v1/proxy/:connectionId/*');
    expect(logs).not.toContain(needle);
    for (const secret of [proxyKey, adminKey, tokenKey, ...accessTokens(), ...s.secrets])
      expect(logs.includes(secret) ? secret.slice(0, 8) : '').toBe('');
  });

  // Last: it stops the CRM.
  it('a provider that cannot be reached: 502 proxy_upstream_unreachable', async () => {
    await s.sandbox.crm.stop();
    const answer = await send(proxied('/v1/contacts'));
    expect(answer.status).toBe(502);
    expect(answer.json().error.code).toBe('proxy_upstream_unreachable');
  });
});

describe('API proxy across replicas', () => {
  let s: Scenario;

  beforeAll(async () => {
    s = await startScenario({ brokers: 2, accessTokenTtlSeconds: 120 });
  });

  afterAll(async () => {
    await s?.stop();
  });

  it('a token the provider refused is replaced once for callers on both replicas', async () => {
    const admin = await s.cliCreateKey(['--name', 'admin']);
    const key = await s.cliCreateKey(['--name', 'crm-caller', '--action', 'proxy']);
    s.sandbox.crm.seed('contacts', 10);
    const id = await s.connectOk(admin, { tenantId: 'tenant-proxy-replicas' });
    expect((await s.api(`/v1/proxy/${id}/v1/contacts`, { key, broker: 1 })).status).toBe(200);
    s.sandbox.auth.expireAccessTokens();
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        s.api(`/v1/proxy/${id}/v1/contacts?limit=3`, { key, broker: n % 2 }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    expect(answers.every((a) => a.body.data.length === 3)).toBe(true);
    expect(s.sandbox.auth.counters.refreshGrants - refreshes).toBe(1);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
  }, 60_000);
});
