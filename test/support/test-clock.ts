import { Clock } from '../../src/infra/clock/clock.js';

/** Real time plus an offset that tests move forward, so "later" needs no waiting. */
export class TestClock extends Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
