import { describe, expect, it } from '@jest/globals';
import { SingleFlight } from './single-flight.js';

describe('SingleFlight', () => {
  it('runs the work once for concurrent callers of one key', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    let release!: (value: number) => void;
    const work = () => {
      runs += 1;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const callers = Array.from({ length: 50 }, () => flight.run('c1', work));
    release(7);
    expect(await Promise.all(callers)).toEqual(Array(50).fill(7));
    expect(runs).toBe(1);
  });

  it('keeps keys independent and forgets a key once settled', async () => {
    const flight = new SingleFlight<string>();
    let runs = 0;
    const work = async () => `run-${++runs}`;
    await Promise.all([flight.run('a', work), flight.run('b', work)]);
    expect(runs).toBe(2);
    expect(await flight.run('a', work)).toBe('run-3');
    expect(flight.size).toBe(0);
  });

  it('shares a failure with every waiting caller, then allows a retry', async () => {
    const flight = new SingleFlight<string>();
    const failing = () => Promise.reject(new Error('provider down'));
    const results = await Promise.allSettled([flight.run('a', failing), flight.run('a', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await flight.run('a', async () => 'ok')).toBe('ok');
  });
});
