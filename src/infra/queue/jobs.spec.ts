import { describe, expect, it } from '@jest/globals';
import { JOBS, missingHandlers, queueTuning } from './jobs.js';

describe('the job registry', () => {
  it('names every job without a handler (a worker then refuses to start)', () => {
    const all = Object.keys(JOBS);
    expect(missingHandlers(new Set(all))).toEqual([]);
    expect(missingHandlers(new Set(all.filter((name) => name !== 'sync.schedule')))).toEqual([
      'sync.schedule',
    ]);
  });

  it('gives every queue a worker tuning, and deterministic ids where a job may be enqueued twice', () => {
    const tuning = queueTuning({
      sync: {
        concurrency: 3,
        jobLockMs: 30_000,
        fullResyncHours: 24,
        maxPages: 1,
        maxRunMinutes: 1,
      },
      refreshSweep: { concurrency: 16, integrationConcurrency: 20, maxPerTick: 50_000 },
    });
    for (const definition of Object.values(JOBS)) expect(tuning[definition.queue]).toBeDefined();
    // A crashed run is taken over within the setting (see queueTuning).
    expect(tuning.sync).toMatchObject({
      concurrency: 3,
      lockDuration: 15_000,
      stalledInterval: 7_500,
    });
    expect(JOBS['refresh.connection'].jobId?.({ connectionId: 'c1' })).toBe('refresh-c1');
    expect(JOBS['revocation.deliver'].jobId?.({ revocationId: 'r1' })).toBe('revoke-r1');
  });
});
