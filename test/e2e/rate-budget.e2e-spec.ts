import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type BrokerProcess, spawnBrokerProcess, waitForLog } from '../support/broker-process.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const BUDGET = 10;

/**
 * Issue 12's check: a budget of 10 requests per second on the sandbox
 * integration, shared by 3 broker processes each running syncs of the same
 * connection (four models at once, each paging on its own). The sandbox
 * enforces the same limit as a provider would (429 past 10 arrivals in any
 * second): it must never have to, and never see more than 10 in a second.
 */
describe('rate budget shared by broker processes', () => {
  let s: Scenario;
  let key: string;
  const workers: BrokerProcess[] = [];

  beforeAll(async () => {
    // The in-process broker only serves the API (connect, triggers): every provider call comes from the processes.
    s = await startScenario({ env: { ROLE: 'api' } });
    key = await s.cliCreateKey(['--name', 'rate-budget']);
    s.sandbox.crm.seed('contacts', 5_000);
    s.sandbox.crm.seed('companies', 2_500);
    s.sandbox.crm.seed('deals', 2_500);
    s.sandbox.crm.seed('tasks', 2_500);
    const integrationsYaml = s.brokerSetup.integrationsYaml.replace(
      '    authorizationParams: { prompt: consent }\n',
      `    authorizationParams: { prompt: consent }\n    rateLimit: { requests: ${BUDGET}, perSeconds: 1 }\n    maxConcurrency: 3\n`,
    );
    expect(integrationsYaml).toContain('rateLimit:');
    for (let i = 0; i < 3; i += 1) {
      workers.push(spawnBrokerProcess({ ...s.brokerSetup, integrationsYaml }, { ROLE: 'worker' }));
    }
    await Promise.all(workers.map((w) => waitForLog(w, /token broker worker started/)));
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await s?.stop();
  });

  it('10 req/s over 3 processes and 4 concurrent syncs: never more than 10 in any second, no 429, every record', async () => {
    const connectionId = await s.connectOk(key, { tenantId: 'tenant-budget' });
    s.sandbox.crm.rateLimit = { requests: BUDGET, perMs: 1_000 };
    const since = Date.now();
    const runs: Record<string, string> = {};
    for (const model of ['contacts', 'companies', 'deals', 'tasks']) {
      const response = await s.api(`/v1/connections/${connectionId}/syncs`, {
        method: 'POST',
        key,
        body: { model },
      });
      expect(response.status).toBe(202);
      runs[model] = response.body.syncRunIds[0];
    }
    const done: Record<string, any> = {};
    await eventually(
      async () => {
        const list = (await s.api(`/v1/connections/${connectionId}/syncs?limit=10`, { key })).body
          .data as Array<Record<string, any>>;
        for (const [model, id] of Object.entries(runs)) {
          const run = list.find((r) => r.id === id);
          expect(['succeeded', 'failed']).toContain(run?.status);
          done[model] = run;
        }
      },
      90_000,
      250,
    );
    const elapsed = (Date.now() - since) / 1000;
    const requests = s.sandbox.crm.requests.filter((r) => r.at >= since);
    const perSecond = s.sandbox.crm.perSecond(since);
    const busiest = s.sandbox.crm.busiestWindow(1_000, since);
    const processes = new Set(workers.map((w) => w.child.pid)).size;
    process.stdout.write(
      `rate budget: ${requests.length} requests in ${elapsed.toFixed(1)} s (${(requests.length / elapsed).toFixed(2)}/s) from ${processes} processes; ` +
        `per second ${JSON.stringify(perSecond)}; busiest sliding 1 s: ${busiest}; 429s: ${requests.filter((r) => r.status === 429).length}\n`,
    );

    expect(requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(BUDGET);
    expect(busiest).toBeLessThanOrEqual(BUDGET);
    // The syncs ran side by side, not one after another, and used the budget.
    expect(elapsed).toBeGreaterThanOrEqual(15);
    expect(requests.length / elapsed).toBeGreaterThan(BUDGET * 0.75);
    for (const [model, count] of Object.entries({
      contacts: 5_000,
      companies: 2_500,
      deals: 2_500,
      tasks: 2_500,
    })) {
      expect(done[model]).toMatchObject({
        status: 'succeeded',
        recordsFetched: count,
        recordsUpserted: count,
      });
    }
  }, 120_000);
});
