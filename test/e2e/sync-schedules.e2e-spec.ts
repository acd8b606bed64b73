import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SyncSchedules } from '../../src/sync/sync-schedules.js';
import { countRows } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

/** BullMQ job schedulers per connection: they run, pause while the grant is dead, and resume after a reconnect. */
describe('scheduled syncs', () => {
  let s: Scenario;
  let key: string;
  let schedules: SyncSchedules;

  beforeAll(async () => {
    s = await startScenario({ syncEvery: '2s' });
    key = await s.cliCreateKey(['--name', 'schedules']);
    schedules = s.broker.app.get(SyncSchedules);
    s.sandbox.crm.seed('contacts', 30);
    s.sandbox.crm.seed('companies', 10);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const scheduledRuns = (id: string) =>
    countRows('sync_runs', "connection_id = $1 AND trigger = 'scheduled'", [id]);

  it('runs on schedule, pauses while the connection needs re-authorisation, resumes once reconnected', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-scheduled' });
    const added = await schedules.reconcile();
    expect(added.added).toBeGreaterThanOrEqual(2); // contacts and companies
    expect((await schedules.reconcile()).added).toBe(0); // existing schedulers are left alone
    await eventually(
      async () => expect(await scheduledRuns(id)).toBeGreaterThanOrEqual(2),
      10_000,
      100,
    );
    await eventually(
      async () => expect(await countRows('records', 'connection_id = $1', [id])).toBe(40),
      10_000,
      100,
    );

    // The grant dies: the schedule stops.
    s.clock.advance(2 * 3_600_000);
    s.sandbox.auth.tokenFaults.push({ status: 400, error: 'invalid_grant' });
    expect((await s.api(`/v1/connections/${id}/token`, { key })).status).toBe(409);
    expect((await schedules.reconcile()).removed).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const paused = await scheduledRuns(id);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await scheduledRuns(id)).toBe(paused);

    // Reconnected: it resumes.
    expect(await s.connectOk(key, { tenantId: 'tenant-scheduled' })).toBe(id);
    expect((await schedules.reconcile()).added).toBeGreaterThanOrEqual(2);
    await eventually(
      async () => expect(await scheduledRuns(id)).toBeGreaterThan(paused),
      10_000,
      100,
    );
  }, 60_000);
});
