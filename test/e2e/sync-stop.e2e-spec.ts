import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SyncRunner } from '../../src/sync/sync-runner.service.js';
import { countRows } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

/**
 * A run always ends, and executes at most once at a time: cancel and
 * disconnect stop it within one page; a second execution of the same run
 * (its job re-queued after Redis lost it) takes over, and the first one can
 * no longer commit, count or emit.
 */
describe('stopping and fencing sync runs', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;
  const CONTACTS = 1_000; // 10 pages of 100

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'sync-stop']);
    s.sandbox.crm.seed('contacts', CONTACTS);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const connect = () => s.connectOk(key, { tenantId: `tenant-stop-${++tenant}` });
  const start = async (id: string) => {
    const response = await s.api(`/v1/connections/${id}/syncs`, {
      method: 'POST',
      key,
      body: { model: 'contacts', full: true },
    });
    expect(response.status).toBe(202);
    return response.body.syncRunIds[0] as string;
  };
  const run = async (id: string, runId: string) =>
    (await s.api(`/v1/connections/${id}/syncs`, { key })).body.data.find(
      (r: { id: string }) => r.id === runId,
    );
  const contactRequests = () => s.sandbox.crm.requests.filter((r) => r.model === 'contacts').length;

  it('cancel stops a running run within one page; cancelling again, or a finished run, is 409', async () => {
    s.sandbox.crm.pageDelayMs = 200;
    try {
      const id = await connect();
      const runId = await start(id);
      await eventually(
        async () => expect((await run(id, runId)).pages).toBeGreaterThanOrEqual(2),
        20_000,
        50,
      );
      const cancelled = await s.api(`/v1/connections/${id}/syncs/${runId}/cancel`, {
        method: 'POST',
        key,
      });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      const pagesAtCancel = cancelled.body.pages as number;
      const requestsAtCancel = contactRequests();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const after = await run(id, runId);
      expect(after.status).toBe('cancelled');
      expect(after.pages).toBe(pagesAtCancel);
      // At most the page in hand was still being read.
      expect(contactRequests() - requestsAtCancel).toBeLessThanOrEqual(1);
      expect(await countRows('events', "connection_id = $1 AND type LIKE 'sync.%'", [id])).toBe(0);
      const again = await s.api(`/v1/connections/${id}/syncs/${runId}/cancel`, {
        method: 'POST',
        key,
      });
      expect(again.status).toBe(200);
      const unknown = await s.api(
        `/v1/connections/${id}/syncs/00000000-0000-4000-8000-000000000000/cancel`,
        { method: 'POST', key },
      );
      expect([unknown.status, unknown.body.error.code]).toEqual([404, 'sync_run_not_found']);
    } finally {
      s.sandbox.crm.pageDelayMs = 0;
    }
    const id = await connect();
    const runId = await start(id);
    await eventually(
      async () => expect((await run(id, runId)).status).toBe('succeeded'),
      30_000,
      50,
    );
    const finished = await s.api(`/v1/connections/${id}/syncs/${runId}/cancel`, {
      method: 'POST',
      key,
    });
    expect([finished.status, finished.body.error.code]).toEqual([409, 'sync_run_finished']);
  }, 60_000);

  it('disconnect stops a running run within one page', async () => {
    s.sandbox.crm.pageDelayMs = 200;
    try {
      const id = await connect();
      const runId = await start(id);
      await eventually(
        async () => expect((await run(id, runId)).pages).toBeGreaterThanOrEqual(2),
        20_000,
        50,
      );
      expect((await s.api(`/v1/connections/${id}`, { method: 'DELETE', key })).status).toBe(204);
      const requestsAtDisconnect = contactRequests();
      await eventually(
        async () => {
          const row = await countRows(
            'sync_runs',
            "id = $1 AND status = 'failed' AND error_code = 'connection_not_active'",
            [runId],
          );
          expect(row).toBe(1);
        },
        10_000,
        50,
      );
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(contactRequests() - requestsAtDisconnect).toBeLessThanOrEqual(1);
    } finally {
      s.sandbox.crm.pageDelayMs = 0;
    }
  }, 60_000);

  it('a second execution of the same run takes over; the first commits nothing more, and the run counts every page once', async () => {
    s.sandbox.crm.pageDelayMs = 150;
    try {
      const id = await connect();
      const runId = await start(id);
      await eventually(
        async () => expect((await run(id, runId)).pages).toBeGreaterThanOrEqual(2),
        20_000,
        50,
      );
      // What the recovery sweep does after Redis lost the job: execute the run again, meanwhile.
      const second = await s.broker.app.get(SyncRunner).execute(runId, {
        attemptsMade: 0,
        finalAttempt: false,
        shutdown: new AbortController().signal,
      });
      expect(second).toBe('succeeded');
      await new Promise((resolve) => setTimeout(resolve, 800));
      const done = await run(id, runId);
      expect(done.status).toBe('succeeded');
      expect(done.pages).toBe(CONTACTS / 100);
      expect(done.recordsFetched).toBe(CONTACTS);
      expect(done.executions).toBe(2);
      expect(await countRows('records', 'connection_id = $1', [id])).toBe(CONTACTS);
      expect(
        await countRows('events', "connection_id = $1 AND type = 'sync.succeeded'", [id]),
      ).toBe(1);
    } finally {
      s.sandbox.crm.pageDelayMs = 0;
    }
  }, 60_000);
});
