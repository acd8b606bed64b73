import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type BrokerProcess, spawnBrokerProcess, waitForLog } from '../support/broker-process.js';
import { countRows, withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

/**
 * Workers as real processes, killed like an orchestrator (or the kernel)
 * would kill them. The API runs in this process with ROLE=api, so only the
 * spawned workers execute runs.
 */
describe('sync runs survive worker crashes and shutdowns', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;
  const workers: BrokerProcess[] = [];
  const workerLogs: string[] = [];

  beforeAll(async () => {
    s = await startScenario({ env: { ROLE: 'api' } });
    key = await s.cliCreateKey(['--name', 'crash']);
    s.sandbox.crm.seed('contacts', 10_000);
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      worker.child.kill('SIGKILL');
      await worker.exited;
      workerLogs.push(worker.logs.text());
    }
    s.sandbox.crm.pageDelayMs = 0;
  });

  afterAll(async () => {
    await s?.stop();
  });

  async function startWorker(lockMs: number): Promise<BrokerProcess> {
    const worker = spawnBrokerProcess(s.brokerSetup, {
      ROLE: 'worker',
      SYNC_JOB_LOCK_MS: String(lockMs),
    });
    workers.push(worker);
    await waitForLog(worker, /token broker worker started/);
    return worker;
  }

  const runRow = async (runId: string) =>
    withDb(
      async (db) => (await db.query('SELECT * FROM sync_runs WHERE id = $1', [runId])).rows[0],
    );

  async function startRun(): Promise<{ connectionId: string; runId: string }> {
    tenant += 1;
    const connectionId = await s.connectOk(key, { tenantId: `tenant-crash-${tenant}` });
    const response = await s.api(`/v1/connections/${connectionId}/syncs`, {
      method: 'POST',
      key,
      body: { model: 'contacts' },
    });
    return { connectionId, runId: response.body.syncRunIds[0] };
  }

  async function expectExactlyAllContacts(
    connectionId: string,
    runId: string,
  ): Promise<Record<string, any>> {
    const run = await runRow(runId);
    expect(run).toMatchObject({
      status: 'succeeded',
      records_fetched: 10_000,
      records_upserted: 10_000,
      pages: 100,
    });
    expect(
      await countRows('records', "connection_id = $1 AND model = 'contacts'", [connectionId]),
    ).toBe(10_000);
    const ids = await withDb(async (db) =>
      (
        await db.query(
          "SELECT external_id FROM records WHERE connection_id = $1 AND model = 'contacts' ORDER BY 1",
          [connectionId],
        )
      ).rows.map((r) => r.external_id as string),
    );
    expect(ids).toEqual([...s.sandbox.crm.records.contacts.keys()].sort());
    return run;
  }

  it('SIGKILL three times mid-run: after each restart the run resumes; exactly 10,000 records, no duplicate, no gap', async () => {
    s.sandbox.crm.pageDelayMs = 40;
    let worker = await startWorker(1_500);
    const { connectionId, runId } = await startRun();
    let pagesAtKill = 0;
    for (let kill = 1; kill <= 3; kill += 1) {
      await eventually(
        async () => expect((await runRow(runId)).pages).toBeGreaterThanOrEqual(pagesAtKill + 10),
        30_000,
        50,
      );
      worker.child.kill('SIGKILL');
      await worker.exited;
      pagesAtKill = (await runRow(runId)).pages;
      expect(pagesAtKill).toBeLessThan(100);
      worker = await startWorker(1_500);
    }
    await eventually(
      async () => expect((await runRow(runId)).status).toBe('succeeded'),
      60_000,
      200,
    );
    const run = await expectExactlyAllContacts(connectionId, runId);
    expect(run.executions).toBeGreaterThanOrEqual(4);
  }, 150_000);

  it('SIGKILL: another worker already running takes the run over within SYNC_JOB_LOCK_MS', async () => {
    s.sandbox.crm.pageDelayMs = 40;
    const lockMs = 6_000;
    const owner = await startWorker(lockMs);
    const { connectionId, runId } = await startRun();
    await eventually(
      async () => expect((await runRow(runId)).pages).toBeGreaterThanOrEqual(10),
      30_000,
      50,
    );
    // Started once the run is under way, so the first worker is the one holding it.
    await startWorker(lockMs);
    const executions = (await runRow(runId)).executions as number;
    owner.child.kill('SIGKILL');
    const killedAt = Date.now();
    await owner.exited;
    await eventually(
      async () => expect((await runRow(runId)).executions).toBeGreaterThan(executions),
      3 * lockMs,
      50,
    );
    const takeover = Date.now() - killedAt;
    process.stdout.write(`takeover after SIGKILL: ${takeover} ms (SYNC_JOB_LOCK_MS ${lockMs})\n`);
    expect(takeover).toBeLessThanOrEqual(lockMs);
    await eventually(
      async () => expect((await runRow(runId)).status).toBe('succeeded'),
      60_000,
      200,
    );
    await expectExactlyAllContacts(connectionId, runId);
  }, 120_000);

  it('SIGTERM: the running page finishes, the job is handed back at once, another worker resumes it', async () => {
    s.sandbox.crm.pageDelayMs = 40;
    // A long lock: if the job were not handed back, the second worker would wait 20 s for it.
    const owner = await startWorker(20_000);
    const { connectionId, runId } = await startRun();
    await eventually(
      async () => expect((await runRow(runId)).pages).toBeGreaterThanOrEqual(10),
      30_000,
      50,
    );
    // Started once the run is under way, so the first worker is the one holding it.
    const other = await startWorker(20_000);
    owner.child.kill('SIGTERM');
    const stoppedAt = Date.now();
    await owner.exited;
    // Nest closes the application, then re-raises the signal: exit by SIGTERM, after a clean close.
    expect(owner.child.signalCode ?? owner.child.exitCode).toBe('SIGTERM');
    expect(owner.logs.text()).not.toMatch(/"level":"(error|fatal)"/);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    const pagesAtStop = (await runRow(runId)).pages;
    await eventually(
      async () => expect((await runRow(runId)).pages).toBeGreaterThan(pagesAtStop),
      8_000,
      50,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    await eventually(
      async () => expect((await runRow(runId)).status).toBe('succeeded'),
      60_000,
      200,
    );
    await expectExactlyAllContacts(connectionId, runId);
    expect(other.child.exitCode).toBeNull();
  }, 120_000);

  it('no token in any worker log', () => {
    const secrets = [...s.secrets, ...s.sandbox.auth.issuedSecrets];
    const text = [s.logText(), ...workerLogs].join('\n');
    expect(workerLogs.join('').length).toBeGreaterThan(1_000);
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });
});
