import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type BrokerProcess, spawnBrokerProcess, waitForLog } from '../support/broker-process.js';
import { countRows } from '../support/db.js';
import { freePort } from '../support/demo-process.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { testEnv } from '../support/test-env.js';

/**
 * PostgreSQL goes away under a real broker process (its connections run
 * through a proxy the test cuts): 503 with a code and Retry-After, never a
 * 500, no exit, a few log lines, and everything back without a restart — a
 * sync run in flight included, from its checkpoint, every record once.
 */
describe('PostgreSQL outage', () => {
  let s: Scenario;
  let proxy: TcpProxy;
  let broker: BrokerProcess;
  let url: string;
  let key: string;
  let connectionId: string;
  const CONTACTS = 1_500;

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'pg-outage']);
    s.sandbox.crm.seed('contacts', CONTACTS);
    connectionId = await s.connectOk(key, { tenantId: 'tenant-pg-outage' });
    proxy = await new TcpProxy('127.0.0.1', 5432).start();
    const proxied = new URL(testEnv().databaseUrl);
    proxied.port = String(proxy.port);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    broker = spawnBrokerProcess(s.brokerSetup, {
      DATABASE_URL: proxied.toString(),
      PORT: String(port),
      ROLE: 'all',
      // Its own queues: only this process runs the sync below.
      REDIS_PREFIX: `${testEnv().redisPrefix}pg-outage:`,
      // Every token read goes to PostgreSQL here: with the cache, a fresh token
      // read just before the cut would be served through the outage.
      TOKEN_CACHE_SIZE: '0',
    });
    await waitForLog(broker, /token broker listening/);
  }, 60_000);

  afterAll(async () => {
    broker?.child.kill('SIGKILL');
    await broker?.exited;
    await proxy?.stop();
    await s?.stop();
  });

  const call = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('answers 503 database_unavailable with Retry-After while it is down, and recovers by itself', async () => {
    expect((await call(`/v1/connections/${connectionId}/token`)).status).toBe(200);
    s.sandbox.crm.pageDelayMs = 150;
    const started = await call(`/v1/connections/${connectionId}/syncs`, 'POST', {
      model: 'contacts',
      full: true,
    });
    expect(started.status).toBe(202);
    const runId = ((await started.json()) as { syncRunIds: string[] }).syncRunIds[0]!;
    await eventually(
      async () => expect(await countRows('sync_runs', 'id = $1 AND pages >= 2', [runId])).toBe(1),
      20_000,
      50,
    );

    proxy.cut();
    const histogram: Record<string, number> = {};
    const outageEnds = Date.now() + 4_000;
    let retryAfterMissing = 0;
    while (Date.now() < outageEnds) {
      const response = await call(`/v1/connections/${connectionId}/token`);
      histogram[response.status] = (histogram[response.status] ?? 0) + 1;
      if (response.status === 503) {
        const body = (await response.json()) as { error: { code: string } };
        expect(body.error.code).toBe('database_unavailable');
        if (!response.headers.get('retry-after')) retryAfterMissing += 1;
      } else await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    proxy.restore();
    process.stdout.write(`PostgreSQL outage status histogram ${JSON.stringify(histogram)}\n`);
    expect(Object.keys(histogram).filter((status) => status !== '503')).toEqual([]);
    expect(retryAfterMissing).toBe(0);
    expect(broker.child.exitCode).toBeNull();

    const recovered = Date.now();
    await eventually(
      async () => expect((await call(`/v1/connections/${connectionId}/token`)).status).toBe(200),
      10_000,
      100,
    );
    process.stdout.write(`PostgreSQL outage recovery ${Date.now() - recovered} ms\n`);

    // The run in flight resumes from its checkpoint: every page and record once.
    await eventually(
      async () =>
        expect(await countRows('sync_runs', "id = $1 AND status = 'succeeded'", [runId])).toBe(1),
      60_000,
      200,
    );
    s.sandbox.crm.pageDelayMs = 0;
    expect(
      await countRows('sync_runs', 'id = $1 AND pages = $2 AND records_fetched = $3', [
        runId,
        CONTACTS / 100,
        CONTACTS,
      ]),
    ).toBe(1);
    expect(await countRows('records', 'connection_id = $1', [connectionId])).toBe(CONTACTS);

    // An outage is a few lines in the log, not one per request or retry.
    const outageLines = broker.logs.lines.filter((line) => /PostgreSQL is unreachable/.test(line));
    expect(outageLines.length).toBeGreaterThan(0);
    expect(outageLines.length).toBeLessThanOrEqual(4);
    expect(broker.logs.text()).not.toMatch(/"status":500/);
  }, 120_000);
});
