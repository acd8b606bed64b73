import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ThrottledLog } from '../../common/logging/throttled-log.js';

const PUBLISH_TIMEOUT_MS = 2_000;

/**
 * Publishes one message, best effort and bounded: what it announces is
 * already in PostgreSQL, the broadcast only makes other replicas see it
 * sooner. False when Redis did not take it (down, or slower than 2 s).
 */
export async function publishOnChannel(
  client: Redis,
  channel: string,
  message: string,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PUBLISH_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      client.publish(channel, message).then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ChannelListener {
  message(message: string): void;
  /**
   * The subscription is confirmed by Redis (first connect, or again after
   * an outage): from here on every broadcast arrives. After an outage,
   * broadcasts sent meanwhile are lost, so whatever they could have
   * invalidated must be forgotten.
   */
  live(afterOutage: boolean): void;
  /** The connection is gone: broadcasts may be missed until `live` again. */
  down(): void;
}

/**
 * A broadcast channel every replica listens to (key revocations, token
 * cache invalidations). A subscriber needs a connection of its own (a
 * subscribed ioredis connection takes no other commands), with an offline
 * queue (the shared client fails fast instead: its callers answer 503). It
 * reconnects forever, at least once a second, and subscribes again on every
 * reconnect; it reports `live` only once Redis has confirmed the SUBSCRIBE,
 * since a message published between the reconnect and that confirmation
 * would be lost. An outage is logged once per 30 s.
 */
export class ChannelSubscription {
  private readonly outageLog = new ThrottledLog();
  private subscriber: Redis | undefined;
  private connectedBefore = false;
  private isLive = false;
  private wasDown = false;

  constructor(
    private readonly channel: string,
    private readonly listener: ChannelListener,
    private readonly logger: Logger,
    private readonly outageMessage: string,
  ) {}

  /** Whether every broadcast on the channel is being received right now. */
  get live(): boolean {
    return this.isLive;
  }

  start(source: Redis): void {
    const subscriber = source.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      // Subscribed again by hand on every 'ready', to know when it is confirmed.
      autoResubscribe: false,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
    });
    this.subscriber = subscriber;
    subscriber.on('message', (from: string, message: string) => {
      if (from === this.channel) this.listener.message(message);
    });
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => this.confirmed(),
        () => this.lost(),
      );
    });
    subscriber.on('close', () => this.lost());
    subscriber.on('error', (error: Error) => {
      this.lost();
      this.outageLog.maybe((suppressed) =>
        this.logger.warn({ err: { message: error.message }, suppressed, msg: this.outageMessage }),
      );
    });
  }

  private confirmed(): void {
    if (this.subscriber?.status !== 'ready') return;
    const afterOutage = this.connectedBefore;
    this.connectedBefore = true;
    this.isLive = true;
    this.listener.live(afterOutage);
    if (afterOutage && this.wasDown) this.logger.log(`${this.channel}: Redis is back`);
    this.wasDown = false;
  }

  private lost(): void {
    if (this.connectedBefore) this.wasDown = true;
    if (!this.isLive) return;
    this.isLive = false;
    this.listener.down();
  }

  stop(): void {
    this.isLive = false;
    this.subscriber?.disconnect();
  }
}
