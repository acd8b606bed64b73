import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { WebhookDelivery } from './webhook-delivery.service.js';

/** Batches per tick at most, so one tick cannot run unbounded behind a large backlog. */
const MAX_BATCHES_PER_TICK = 50;

/**
 * Polls the outbox on the worker role. Every replica may poll: claims skip
 * rows another replica holds. Stopping cuts off the POST in flight and
 * releases the rest of the batch, so shutdown never waits on a slow receiver.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly stopping = new AbortController();

  constructor(
    private readonly config: AppConfig,
    private readonly delivery: WebhookDelivery,
  ) {}

  onApplicationBootstrap(): void {
    const intervalMs = this.config.webhook?.pollIntervalMs ?? 0;
    if (intervalMs === 0) return;
    this.timer = setInterval(() => void this.tick(), intervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }

  tick(): Promise<void> {
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch += 1) {
        if ((await this.delivery.deliverDue(this.stopping.signal)) === 0) return;
      }
    } catch (error) {
      this.logger.error({ err: error, msg: 'webhook delivery failed' });
    }
  }
}
