import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type BrokerProcess, spawnBrokerProcess, waitForLog } from '../support/broker-process.js';
import { countRows } from '../support/db.js';
import { freePort } from '../support/demo-process.js';
import { eventually } from '../support/eventually.js';
import {
  type PrivateRedis,
  removePrivateRedis,
  startPrivateRedis,
} from '../support/private-redis.js';
import { type Scenario, startScenario } from '../support/scenario.js';
import { testEnv } from '../support/test-env.js';

/**
 * Redis goes away under a real broker process (a private redis-server the
 * test kills, losing everything, and starts again empty): tokens that need
 * no refresh are still served, whatever needs Redis answers 503 with a code
 * and Retry-After, the log stays short, everything works again within 10 s
 * of Redis coming back, and SIGTERM during an outage exits promptly.
 */
describe('Redis outage', () => {
  let s: Scenario;
  let redis: PrivateRedis;
  let broker: BrokerProcess | undefined;
  let url: string;
  let key: string;
  let connectionId: string;
  let expiredId: string;
  const CONTACTS = 300;

  const startBroker = async (): Promise<BrokerProcess> => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const started = spawnBrokerProcess(s.brokerSetup, {
      REDIS_URL: redis.url,
      PORT: String(port),
      ROLE: 'all',
      REDIS_PREFIX: `${testEnv().redisPrefix}redis-outage:`,
    });
    await waitForLog(started, /token broker listening/);
    return started;
  };

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'redis-outage']);
    s.sandbox.crm.seed('contacts', CONTACTS);
    connectionId = await s.connectOk(key, { tenantId: 'tenant-redis-outage' });
    // A second connection whose 1-second token has expired: reading it needs a refresh.
    s.sandbox.auth.accessTokenTtlSeconds = 1;
    expiredId = await s.connectOk(key, { tenantId: 'tenant-redis-outage-expired' });
    s.sandbox.auth.accessTokenTtlSeconds = 3600;
    redis = await startPrivateRedis();
    broker = await startBroker();
  }, 60_000);

  afterAll(async () => {
    broker?.child.kill('SIGKILL');
    await broker?.exited;
    await removePrivateRedis(redis);
    await s?.stop();
  });

  const call = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const session = async (): Promise<string> => {
    const response = await call('/v1/connect-sessions', 'POST', {
      integration: s.integration,
      tenantId: 'tenant-redis-outage',
      endUserId: 'user-1',
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  };

  it('serves fresh tokens, answers 503 with a code and Retry-After for what needs Redis, and recovers within 10 s', async () => {
    expect((await call(`/v1/connections/${connectionId}/token`)).status).toBe(200);
    const link = await session();

    const linesBefore = broker!.logs.lines.length;
    await redis.stop();
    const histogram: Record<string, number> = {};
    const codes = new Set<string>();
    let retryAfterMissing = 0;
    const probes: [string, string, unknown?][] = [
      [`/v1/connections/${connectionId}/token`, 'GET'],
      // A read the stored token cannot satisfy needs a refresh, and so Redis.
      [`/v1/connections/${expiredId}/token`, 'GET'],
      [`/v1/connections/${connectionId}/refresh`, 'POST'],
      [`/v1/connections/${connectionId}/syncs`, 'POST', { model: 'contacts' }],
      [`/v1/connect?session=${link}`, 'GET'],
    ];
    const outageEnds = Date.now() + 5_000;
    while (Date.now() < outageEnds) {
      for (const [path, method, body] of probes) {
        const started = Date.now();
        const response = await call(path, method, body);
        const route = `${method} ${path
          .replace(connectionId, ':id')
          .replace(expiredId, ':expired')
          .replace(link, '…')}`;
        histogram[`${route} ${response.status}`] =
          (histogram[`${route} ${response.status}`] ?? 0) + 1;
        // Nothing waits long on a Redis that is not there.
        expect(Date.now() - started).toBeLessThan(3_000);
        if (path.endsWith(`${connectionId}/token`)) {
          // A fresh token needs no Redis.
          expect(response.status).toBe(200);
          await response.arrayBuffer();
          continue;
        }
        expect(`${route} ${response.status}`).toBe(`${route} 503`);
        if (!response.headers.get('retry-after')) retryAfterMissing += 1;
        const text = await response.text();
        if (!path.startsWith('/v1/connect?'))
          codes.add((JSON.parse(text) as { error: { code: string } }).error.code);
      }
      const ready = await fetch(`${url}/health/ready`);
      const body = (await ready.json()) as { status: string; checks: Record<string, unknown> };
      histogram[`GET /health/ready ${ready.status} ${body.status}`] =
        (histogram[`GET /health/ready ${ready.status} ${body.status}`] ?? 0) + 1;
      expect(ready.status).toBe(200);
    }
    process.stdout.write(`Redis outage status histogram ${JSON.stringify(histogram)}\n`);
    expect(retryAfterMissing).toBe(0);
    expect([...codes]).toEqual(['redis_unavailable']);
    expect(broker!.child.exitCode).toBeNull();

    await redis.restart();
    const back = Date.now();
    await eventually(
      async () => {
        expect((await call(`/v1/connections/${connectionId}/refresh`, 'POST')).status).toBe(200);
        expect((await call(`/v1/connections/${expiredId}/token`)).status).toBe(200);
        // The link that met the outage was not used up by it.
        expect((await call(`/v1/connect?session=${link}`)).status).toBe(302);
      },
      10_000,
      200,
    );
    const recovery = Date.now() - back;
    const started = await call(`/v1/connections/${connectionId}/syncs`, 'POST', {
      model: 'contacts',
      full: true,
    });
    expect(started.status).toBe(202);
    const runId = ((await started.json()) as { syncRunIds: string[] }).syncRunIds[0]!;
    await eventually(
      async () =>
        expect(await countRows('sync_runs', "id = $1 AND status = 'succeeded'", [runId])).toBe(1),
      30_000,
      200,
    );
    process.stdout.write(`Redis outage recovery ${recovery} ms\n`);
    expect(recovery).toBeLessThan(10_000);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);

    // The outage is a few lines in the log, not a stack trace per retry.
    const outageLines = broker!.logs.lines.filter((line) => /Redis is unreachable/.test(line));
    expect(outageLines.length).toBeGreaterThan(0);
    expect(outageLines.length).toBeLessThanOrEqual(8);
    const sinceOutage = broker!.logs.lines
      .slice(linesBefore)
      .filter((line) => !line.includes('"msg":"request"'));
    process.stdout.write(`Redis outage: ${sinceOutage.length} log lines besides request lines\n`);
    expect(sinceOutage.length).toBeLessThanOrEqual(10);
    expect(broker!.logs.text()).not.toMatch(/"status":500|MaxRetriesPerRequestError/);
  }, 120_000);

  it('started while Redis is down: tokens served, sync triggers answer 503 at once (never hang)', async () => {
    broker!.child.kill('SIGKILL');
    await broker!.exited;
    await redis.stop();
    broker = await startBroker();
    expect((await call(`/v1/connections/${connectionId}/token`)).status).toBe(200);
    const started = Date.now();
    const response = await call(`/v1/connections/${connectionId}/syncs`, 'POST', {
      model: 'contacts',
    });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'redis_unavailable',
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    await redis.restart();
    await eventually(
      async () =>
        expect(
          (await call(`/v1/connections/${connectionId}/syncs`, 'POST', { model: 'contacts' }))
            .status,
        ).toBe(202),
      10_000,
      200,
    );
  }, 60_000);

  it('exits within 15 s of SIGTERM while Redis is down', async () => {
    await redis.stop();
    // Let the workers notice and start reconnecting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sent = Date.now();
    broker!.child.kill('SIGTERM');
    await broker!.exited;
    const took = Date.now() - sent;
    const ended = broker!.child.signalCode ?? broker!.child.exitCode;
    process.stdout.write(`SIGTERM with Redis down: ended (${ended}) after ${took} ms\n`);
    expect(took).toBeLessThan(15_000);
    // Nest re-raises the signal once it has closed everything (not the deadline's exit 1).
    expect(ended).toBe('SIGTERM');
    broker = undefined;
    await redis.restart();
  }, 30_000);
});
