import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as tcpConnect } from 'node:net';
import { ServiceKeysService } from '../../src/auth/service-keys.service.js';
import { runCli } from '../../src/cli/run-cli.js';
import { listenInternal } from '../../src/common/http/listeners.js';
import { freePort, startBroker, type TestBroker } from '../support/broker.js';
import { spawnBrokerProcess, waitForLog } from '../support/broker-process.js';
import { testEnv } from '../support/test-env.js';

const INTEGRATIONS = `
integrations:
  - key: acme
    provider: oauth2
    clientId: acme-client
    clientSecret: acme-secret
    authorizationUrl: http://127.0.0.1:5998/authorize
    tokenUrl: http://127.0.0.1:5998/token
    scopes: [contacts.read]
`;

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const envelope = (code: string) => ({ error: expect.objectContaining({ code }) });

async function call(
  base: string,
  path: string,
  init: { key?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: {
      ...(init.key && { authorization: `Bearer ${init.key}` }),
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    body = { text };
  }
  return { status: response.status, headers: response.headers, body };
}

/** Starts a broker with both listeners; `internal` is the second one's base URL. */
async function startSplitBroker(
  env: Record<string, string> = {},
): Promise<{ broker: TestBroker; internal: string; internalPort: number }> {
  const broker = await startBroker({
    integrationsYaml: INTEGRATIONS,
    env: { INTERNAL_PORT: '0', INTERNAL_HOST: '127.0.0.1', ...env },
  });
  const { port } = await listenInternal(
    broker.app.getHttpAdapter().getInstance(),
    broker.config.http.internal!,
  );
  return { broker, internal: `http://127.0.0.1:${port}`, internalPort: port };
}

describe('the internal listener (INTERNAL_PORT)', () => {
  let broker: TestBroker;
  let publicUrl: string;
  let internal: string;
  let internalPort: number;
  let key: string;

  beforeAll(async () => {
    ({ broker, internal, internalPort } = await startSplitBroker({ METRICS_TOKEN }));
    publicUrl = broker.url;
    key = await broker.createKey();
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('answers service routes on the internal listener only: 404 with the envelope on the public one', async () => {
    expect((await call(internal, '/v1/connections?tenantId=t1', { key })).status).toBe(200);
    const refused = await call(publicUrl, '/v1/connections?tenantId=t1', { key });
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject(envelope('route_not_found'));
    expect(refused.headers.get('cache-control')).toBe('no-store');
    // The same without a key or with a bad one: the public listener never looks at keys.
    expect((await call(publicUrl, '/v1/connections')).status).toBe(404);
    expect((await call(publicUrl, '/v1/integrations', { key: 'tbk_nope' })).status).toBe(404);
    expect((await call(publicUrl, '/v1/connections/x/token', { key })).status).toBe(404);
  });

  it('creates the session on the internal listener; the browser connects and polls on the public one', async () => {
    const created = await call(internal, '/v1/connect-sessions', {
      key,
      method: 'POST',
      body: { integration: 'acme', tenantId: 'tenant-split', endUserId: 'user-1' },
    });
    expect(created.status).toBe(201);
    expect(
      (
        await call(publicUrl, '/v1/connect-sessions', {
          key,
          method: 'POST',
          body: { integration: 'acme', tenantId: 'tenant-split', endUserId: 'user-1' },
        })
      ).status,
    ).toBe(404);
    const { id, token, connectUrl } = created.body as {
      id: string;
      token: string;
      connectUrl: string;
    };
    const { pathname, search } = new URL(connectUrl);
    const start = await call(publicUrl, `${pathname}${search}`);
    expect(start.status).toBe(302);
    expect(start.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:5998\/authorize\?/);
    // Browser routes are not on the internal listener.
    expect((await call(internal, `${pathname}${search}`)).status).toBe(404);
    expect((await call(internal, '/v1/oauth/callback/acme?code=x&state=y')).status).toBe(404);
    expect((await call(internal, '/sdk/connect.js')).status).toBe(404);
    expect((await call(publicUrl, '/sdk/connect.js')).status).toBe(200);
    // The status: the session token on the public listener, the service key on the internal one.
    const polled = await call(publicUrl, `/v1/connect-sessions/${id}`, { key: token });
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ id, status: 'pending' });
    expect((await call(publicUrl, `/v1/connect-sessions/${id}`, { key })).status).toBe(404);
    expect((await call(internal, `/v1/connect-sessions/${id}`, { key })).body).toMatchObject({
      id,
    });
  });

  it('serves health and docs on both, metrics and the dashboard on the internal one only', async () => {
    for (const base of [publicUrl, internal]) {
      expect((await call(base, '/health/live')).status).toBe(200);
      expect((await call(base, '/health/ready')).status).toBe(200);
      expect((await call(base, '/docs/openapi.json')).status).toBe(200);
    }
    const auth = { authorization: `Bearer ${METRICS_TOKEN}` };
    expect((await call(publicUrl, '/metrics', { headers: auth })).status).toBe(404);
    expect((await call(internal, '/metrics', { headers: auth })).status).toBe(200);
    const board = await call(publicUrl, '/admin/queues', { key });
    expect(board.status).toBe(404);
    expect(board.body).toMatchObject(envelope('route_not_found'));
    expect((await call(publicUrl, '/admin/login')).status).toBe(404);
    expect((await call(internal, '/admin/queues')).status).toBe(401);
    expect((await call(internal, '/admin/queues', { key })).status).toBe(200);
    expect((await call(internal, '/admin/login')).status).toBe(200);
  });

  it('/metrics with METRICS_TOKEN: 401 with the envelope unless the bearer matches', async () => {
    for (const headers of <Array<Record<string, string>>>[
      {},
      { authorization: 'Bearer wrong-token-0123456789abcdef' },
      { authorization: `Bearer ${METRICS_TOKEN}x` },
      { authorization: METRICS_TOKEN },
      { authorization: `Bearer ${key}` },
    ]) {
      const refused = await call(internal, '/metrics', { headers });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject(envelope('metrics_token_required'));
    }
    const scraped = await call(internal, '/metrics', {
      headers: { authorization: `bearer ${METRICS_TOKEN}` },
    });
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(String(scraped.body.text)).toContain('tb_http_request_duration_seconds');
    expect(broker.logs.text()).not.toContain(METRICS_TOKEN);
  });

  it('answers 429 too_many_failed_attempts with Retry-After after 20 invalid keys from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i += 1) {
      const bad = i % 2 ? 'tbk_malformed' : `tbk_${'A'.repeat(42)}${String.fromCharCode(65 + i)}`;
      statuses.push((await call(internal, '/v1/integrations', { key: bad })).status);
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual([429, 429]);
    const limited = await call(internal, '/v1/integrations', { key: 'tbk_again' });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject(envelope('too_many_failed_attempts'));
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The key this replica already verified still works from that address (a shared NAT).
    expect((await call(internal, '/v1/integrations', { key })).status).toBe(200);
  });

  it('closes both listeners when the app stops', async () => {
    const { broker: other, internalPort: port } = await startSplitBroker();
    await other.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    expect(internalPort).not.toBe(port);
  });
});

describe('revoking a service key', () => {
  let a: TestBroker;
  let b: TestBroker;

  beforeAll(async () => {
    // Two replicas of one deployment: same database, same Redis prefix.
    a = await startBroker({ integrationsYaml: INTEGRATIONS });
    b = await startBroker({ integrationsYaml: INTEGRATIONS, redisPrefix: a.redisPrefix });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  /** Revokes, then polls the other replica until it refuses the key; the delay in ms. */
  async function refusedWithin(revoke: () => Promise<unknown>, key: string): Promise<number> {
    const started = Date.now();
    await revoke();
    for (;;) {
      const status = (await call(b.url, '/v1/integrations', { key })).status;
      if (status === 401) return Date.now() - started;
      expect(status).toBe(200);
      if (Date.now() - started > 5_000) throw new Error('the other replica still accepts the key');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function warmKey(): Promise<{ id: string; key: string }> {
    const created = await a.app.get(ServiceKeysService).create({ name: 'replicated' });
    // Both replicas have verified (and cached) it.
    for (const broker of [a, b]) {
      expect((await call(broker.url, '/v1/integrations', { key: created.key })).status).toBe(200);
    }
    return created;
  }

  it('on one replica stops it on the other within a second (pub/sub), not the 30 s cache', async () => {
    const { id, key } = await warmKey();
    const delay = await refusedWithin(() => a.app.get(ServiceKeysService).revoke(id), key);
    expect(delay).toBeLessThan(1_000);
    process.stdout.write(`revocation seen by the other replica after ${delay} ms\n`);
    expect((await call(a.url, '/v1/integrations', { key })).status).toBe(401);
  });

  it('with `keys revoke` on the command line stops it on every replica within a second', async () => {
    const { id, key } = await warmKey();
    const err: string[] = [];
    const env = {
      DATABASE_URL: testEnv().databaseUrl,
      REDIS_URL: testEnv().redisUrl,
      REDIS_PREFIX: a.redisPrefix,
    };
    const delay = await refusedWithin(
      () => runCli(['keys', 'revoke', id], env, { out: () => undefined, err: (l) => err.push(l) }),
      key,
    );
    expect(delay).toBeLessThan(1_000);
    process.stdout.write(`CLI revocation seen by a replica after ${delay} ms\n`);
    expect(err.join('\n')).toMatch(/every replica stops accepting it within a second/);
    expect((await call(a.url, '/v1/integrations', { key })).status).toBe(401);
  });
});

describe('the broker process with INTERNAL_PORT', () => {
  it('listens on both ports, says so, and closes both on SIGTERM', async () => {
    const [port, internalPort] = [await freePort(), await freePort()];
    const broker = spawnBrokerProcess({
      integrationsYaml: INTEGRATIONS,
      env: {
        PORT: String(port),
        INTERNAL_PORT: String(internalPort),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        REDIS_PREFIX: `${testEnv().redisPrefix}proc:`,
      },
    });
    try {
      await waitForLog(broker, /token broker listening/);
      const line = broker.logs.lines.find((l) => l.includes('token broker listening'))!;
      expect(JSON.parse(line)).toMatchObject({ port, internalPort });
      const internal = `http://127.0.0.1:${internalPort}`;
      const publicUrl = `http://127.0.0.1:${port}`;
      expect((await call(internal, '/v1/integrations')).status).toBe(401);
      expect((await call(publicUrl, '/v1/integrations')).status).toBe(404);
      expect((await call(publicUrl, '/health/ready')).status).toBe(200);
    } finally {
      broker.child.kill('SIGTERM');
    }
    const stopping = Date.now();
    // Nest re-raises the signal once closed: a clean stop ends by SIGTERM, not an error code.
    expect([0, null]).toContain(await broker.exited);
    expect(broker.child.exitCode === 1).toBe(false);
    expect(Date.now() - stopping).toBeLessThan(10_000);
  });
});
