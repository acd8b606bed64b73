import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ThrottledLog } from '../common/logging/throttled-log.js';
import { AppConfig } from '../config/app-config.js';
import { type Lease, RedisLock } from '../infra/locks/redis-lock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { type SweepDefinition, SweepRegistry } from './sweeps.js';

/** A lease ends this long before the holder's own next turn, so the holder's timer finds it free. */
const LEASE_SLACK_MS = 2_000;
/** With sweeps driven by hand (interval 0), a run holds its lease this long at most. */
const MANUAL_LEASE_MS = 60_000;

/**
 * Runs each sweep on its own interval. However many worker replicas there
 * are, one runs a given sweep per interval: a run first takes the sweep's
 * lease in Redis (SET NX PX with an owner token), renews it while it runs,
 * and keeps it until just before its next turn, so the other replicas'
 * timers in that interval find it taken and skip. A replica that dies
 * mid-run loses the lease when it expires and another takes over. The
 * lease only keeps replicas from repeating the same scan; what sweeps
 * enqueue is idempotent (deterministic job ids), so a lease lost under a
 * slow run costs a duplicate scan, never a duplicate job.
 *
 * Without Redis there is nothing to enqueue into: the sweep skips, logged
 * once and then at most once a minute. An interval of 0 turns the timers
 * off (tests drive the sweeps by hand).
 */
@Injectable()
export class SweepsScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(SweepsScheduler.name);
  private readonly running = new Set<string>();
  private readonly leaseOutage = new ThrottledLog(60_000);

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly sweeps: SweepRegistry,
    private readonly metrics: Metrics,
    private readonly lock: RedisLock,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.sweepIntervalSeconds === 0) return;
    for (const sweep of this.sweeps.sweeps) {
      this.registry.addInterval(
        `sweep:${sweep.name}`,
        setInterval(() => void this.run(sweep), this.periodMs(sweep)),
      );
    }
  }

  /**
   * One run of one sweep, if this replica gets its lease; never throws (a
   * failure is logged and counted, the others go on). True when it ran.
   */
  async run(sweep: SweepDefinition): Promise<boolean> {
    // A slow run (database under load) is not overlapped by the next one.
    if (this.running.has(sweep.name)) {
      this.metrics.sweepRuns.inc({ sweep: sweep.name, outcome: 'skipped' });
      return false;
    }
    this.running.add(sweep.name);
    try {
      const lease = await this.takeLease(sweep);
      if (!lease) {
        this.metrics.sweepRuns.inc({ sweep: sweep.name, outcome: 'skipped' });
        return false;
      }
      const started = Date.now();
      const ttlMs = this.leaseMs(sweep);
      // Renewed while the run lasts: a long run keeps the others out.
      const renew = setInterval(() => void lease.extend(ttlMs).catch(() => false), ttlMs / 3);
      const stop = this.metrics.sweepDuration.startTimer({ sweep: sweep.name });
      try {
        await sweep.run();
        this.metrics.sweepRuns.inc({ sweep: sweep.name, outcome: 'ok' });
      } catch (error) {
        this.metrics.sweepRuns.inc({ sweep: sweep.name, outcome: 'failed' });
        this.logger.error({ err: error, sweep: sweep.name, msg: 'sweep failed' });
      } finally {
        stop();
        clearInterval(renew);
        await this.keepUntilNextTurn(sweep, lease, started);
      }
      return true;
    } finally {
      this.running.delete(sweep.name);
    }
  }

  /** Every sweep once, each on its own (tests and tools). */
  async runAll(): Promise<void> {
    await Promise.all(this.sweeps.sweeps.map((sweep) => this.run(sweep)));
  }

  private async takeLease(sweep: SweepDefinition): Promise<Lease | undefined> {
    try {
      return await this.lock.tryAcquire(`sweep:${sweep.name}`, this.leaseMs(sweep));
    } catch (error) {
      this.leaseOutage.maybe((suppressed) =>
        this.logger.warn({
          err: error,
          sweep: sweep.name,
          suppressed,
          msg: 'sweeps skipped: Redis is unavailable',
        }),
      );
      return undefined;
    }
  }

  /**
   * With timers, the lease stays until just before this replica's next
   * turn (one run per interval across replicas); driven by hand, it is
   * released at once.
   */
  private async keepUntilNextTurn(
    sweep: SweepDefinition,
    lease: Lease,
    started: number,
  ): Promise<void> {
    const left =
      this.config.sweepIntervalSeconds === 0
        ? 0
        : this.periodMs(sweep) - (Date.now() - started) - LEASE_SLACK_MS;
    await (left > 0 ? lease.extend(left) : lease.release()).catch(() => undefined);
  }

  private periodMs(sweep: SweepDefinition): number {
    return this.config.sweepIntervalSeconds * sweep.everyIntervals * 1000;
  }

  private leaseMs(sweep: SweepDefinition): number {
    return this.config.sweepIntervalSeconds === 0 ? MANUAL_LEASE_MS : this.periodMs(sweep);
  }
}
