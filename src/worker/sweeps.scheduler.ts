import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { type SweepDefinition, SweepRegistry } from './sweeps.js';

/**
 * Runs each sweep on its own interval (every replica may run them: they
 * only enqueue, and job ids deduplicate). An interval of 0 turns them off.
 */
@Injectable()
export class SweepsScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(SweepsScheduler.name);
  private readonly running = new Set<string>();

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly sweeps: SweepRegistry,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.sweepIntervalSeconds;
    if (seconds === 0) return;
    for (const sweep of this.sweeps.sweeps) {
      this.registry.addInterval(
        `sweep:${sweep.name}`,
        setInterval(() => void this.run(sweep), seconds * sweep.everyIntervals * 1000),
      );
    }
  }

  /** One run of one sweep; never throws (a failure is logged and counted, the others go on). */
  async run(sweep: SweepDefinition): Promise<void> {
    // A slow run (database under load) is not overlapped by the next one.
    if (this.running.has(sweep.name)) {
      this.metrics.sweepRuns.inc({ sweep: sweep.name, outcome: 'skipped' });
      return;
    }
    this.running.add(sweep.name);
    const stop = this.metrics.sweepDuration.startTimer({ sweep: sweep.name });
    try {
      await sweep.run();
      this.metrics.sweepRuns.inc({ sweep: sweep.name, outcome: 'ok' });
    } catch (error) {
      this.metrics.sweepRuns.inc({ sweep: sweep.name, outcome: 'failed' });
      this.logger.error({ err: error, sweep: sweep.name, msg: 'sweep failed' });
    } finally {
      stop();
      this.running.delete(sweep.name);
    }
  }

  /** Every sweep once, each on its own (tests and tools). */
  async runAll(): Promise<void> {
    await Promise.all(this.sweeps.sweeps.map((sweep) => this.run(sweep)));
  }
}
