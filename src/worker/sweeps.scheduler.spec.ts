import { describe, expect, it, jest } from '@jest/globals';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { AppConfig } from '../config/app-config.js';
import type { Lease, RedisLock } from '../infra/locks/redis-lock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { SweepsScheduler } from './sweeps.scheduler.js';
import type { SweepDefinition } from './sweeps.js';

/** A lock every caller gets (the lease itself is tested on Redis in test/integration). */
const freeLock = {
  tryAcquire: async (name: string) =>
    ({
      name,
      owner: 'me',
      extend: async () => true,
      release: async () => undefined,
    }) satisfies Lease,
} as unknown as RedisLock;

const scheduler = (sweeps: SweepDefinition[], metrics = new Metrics(), lock = freeLock) =>
  new SweepsScheduler(
    { sweepIntervalSeconds: 60 } as AppConfig,
    { addInterval: () => undefined } as unknown as SchedulerRegistry,
    { sweeps },
    metrics,
    lock,
  );

describe('sweeps', () => {
  it('a failing sweep neither stops nor skips the others, and each is counted', async () => {
    const ran: string[] = [];
    const sweep = (name: string, fail = false): SweepDefinition => ({
      name,
      everyIntervals: 1,
      run: async () => {
        ran.push(name);
        if (fail) throw new Error(`${name} broke`);
      },
    });
    const metrics = new Metrics();
    const s = scheduler(
      [sweep('first', true), sweep('second'), sweep('third', true), sweep('fourth')],
      metrics,
    );
    await expect(s.runAll()).resolves.toBeUndefined();
    expect(ran.sort()).toEqual(['first', 'fourth', 'second', 'third']);
    const text = await metrics.registry.metrics();
    expect(text).toContain('tb_sweep_runs_total{sweep="first",outcome="failed"} 1');
    expect(text).toContain('tb_sweep_runs_total{sweep="second",outcome="ok"} 1');
  });

  it('a slow sweep is not overlapped by its next turn, and does not hold up another', async () => {
    let release!: () => void;
    const slow = jest.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const quick = jest.fn(async () => undefined);
    const s = scheduler([
      { name: 'slow', everyIntervals: 1, run: slow },
      { name: 'quick', everyIntervals: 1, run: quick },
    ]);
    const first = s.run({ name: 'slow', everyIntervals: 1, run: slow });
    await s.run({ name: 'slow', everyIntervals: 1, run: slow });
    await s.run({ name: 'quick', everyIntervals: 1, run: quick });
    expect(slow).toHaveBeenCalledTimes(1);
    expect(quick).toHaveBeenCalledTimes(1);
    release();
    await first;
  });

  it('gives each sweep its own timer at its own cadence', () => {
    const added: Array<[string, number]> = [];
    const realSetInterval = global.setInterval;
    const timers: NodeJS.Timeout[] = [];
    global.setInterval = ((fn: () => void, ms: number) => {
      const timer = realSetInterval(fn, 1e9);
      timers.push(timer);
      added.push(['', ms]);
      return timer;
    }) as typeof setInterval;
    try {
      const names: string[] = [];
      new SweepsScheduler(
        { sweepIntervalSeconds: 60 } as AppConfig,
        { addInterval: (name: string) => names.push(name) } as unknown as SchedulerRegistry,
        {
          sweeps: [
            { name: 'a', everyIntervals: 1, run: async () => undefined },
            { name: 'b', everyIntervals: 60, run: async () => undefined },
          ],
        },
        new Metrics(),
        freeLock,
      ).onApplicationBootstrap();
      expect(names).toEqual(['sweep:a', 'sweep:b']);
      expect(added.map(([, ms]) => ms)).toEqual([60_000, 3_600_000]);
    } finally {
      global.setInterval = realSetInterval;
      timers.forEach(clearInterval);
    }
  });

  it('skips its turn when another replica holds the lease, or Redis is down (no error)', async () => {
    const run = jest.fn(async () => undefined);
    const sweep = { name: 'refresh', everyIntervals: 1, run };
    const metrics = new Metrics();
    const taken = { tryAcquire: async () => undefined } as unknown as RedisLock;
    expect(await scheduler([sweep], metrics, taken).run(sweep)).toBe(false);
    const down = {
      tryAcquire: async () => {
        throw new Error('Connection is closed.');
      },
    } as unknown as RedisLock;
    const s = scheduler([sweep], metrics, down);
    await expect(s.run(sweep)).resolves.toBe(false);
    await expect(s.run(sweep)).resolves.toBe(false);
    expect(run).not.toHaveBeenCalled();
    expect(await metrics.registry.metrics()).toContain(
      'tb_sweep_runs_total{sweep="refresh",outcome="skipped"} 3',
    );
  });
});
