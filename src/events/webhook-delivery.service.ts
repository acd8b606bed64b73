import { Injectable, Logger } from '@nestjs/common';
import { fullJitterDelayMs } from '../common/backoff.js';
import { parseRetryAfter } from '../common/http/retry-after.js';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../infra/clock/clock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { type OutboxEvent, OutboxRepository } from './outbox.repository.js';
import { signWebhook, webhookSigningKey } from './webhook-signature.js';

const BATCH = 20;
const RETRY_BASE_MS = 5_000;
const RETRY_CAP_MS = 60 * 60_000;
/**
 * Retries stop this long after the event happened; the row stays, marked
 * failed. Events never attempted within it (e.g. written before WEBHOOK_URL
 * was set) are not sent at all, so turning webhooks on does not replay history.
 */
const DELIVERY_WINDOW_MS = 72 * 60 * 60_000;

type Outcome = { ok: true } | { ok: false; error: string; retryAfterSeconds?: number };

/**
 * POSTs outbox events to WEBHOOK_URL, signed, one at a time in event order.
 * A failure (non-2xx, timeout, network) is retried with exponential backoff
 * and full jitter, or after the receiver's Retry-After (up to an hour), for
 * 72 hours. Success is the status alone: the receiver's body is not read.
 * Redirects are not followed. The URL is never logged: webhook URLs often
 * carry a secret of their own.
 */
@Injectable()
export class WebhookDelivery {
  private readonly logger = new Logger(WebhookDelivery.name);
  private readonly key: Uint8Array | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    if (config.webhook) this.key = webhookSigningKey(config.webhook.secret.reveal());
  }

  /**
   * Delivers one batch of due events; returns how many it claimed (0:
   * nothing was due). When `stop` aborts, the POST in flight is cut off and
   * the rest of the batch is released for another replica, attempts unspent.
   */
  async deliverDue(stop?: AbortSignal): Promise<number> {
    const webhook = this.config.webhook;
    if (!webhook || !this.key || stop?.aborted) return 0;
    const now = this.clock.now();
    // Long enough for the whole batch to time out one by one: the lease must
    // not lapse while this replica is still working through it.
    const leaseMs = BATCH * (webhook.timeoutMs + 1_000) + 10_000;
    const events = await this.outbox.claimDue(
      now,
      new Date(now.getTime() + leaseMs),
      DELIVERY_WINDOW_MS,
      BATCH,
    );
    for (const [index, event] of events.entries()) {
      const outcome = await this.post(event, webhook, stop);
      if (stop?.aborted) {
        await this.outbox.release(
          events.slice(index).map((e) => e.id),
          this.clock.now(),
        );
        break;
      }
      await this.record(event, outcome);
    }
    return events.length;
  }

  private async record(event: OutboxEvent, outcome: Outcome): Promise<void> {
    const now = this.clock.now();
    const attempt = event.attempts + 1;
    if (outcome.ok) {
      await this.outbox.markDelivered(event.id, now);
      this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
      this.logger.debug({ eventId: event.id, type: event.type, attempt, msg: 'event delivered' });
      return;
    }
    if (now.getTime() - event.createdAt.getTime() >= DELIVERY_WINDOW_MS) {
      await this.outbox.markFailed(event.id, now, outcome.error);
      this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
      this.logger.error({
        eventId: event.id,
        type: event.type,
        attempt,
        error: outcome.error,
        msg: 'event delivery given up',
      });
      return;
    }
    const backoffMs = Math.max(1_000, fullJitterDelayMs(attempt - 1, RETRY_BASE_MS, RETRY_CAP_MS));
    const delayMs = Math.max(backoffMs, (outcome.retryAfterSeconds ?? 0) * 1000);
    const nextAttemptAt = new Date(now.getTime() + Math.min(delayMs, RETRY_CAP_MS));
    await this.outbox.markRetry(event.id, nextAttemptAt, outcome.error);
    this.metrics.webhookDeliveries.inc({ outcome: 'retry' });
    this.logger.warn({
      eventId: event.id,
      type: event.type,
      attempt,
      error: outcome.error,
      nextAttemptAt: nextAttemptAt.toISOString(),
      msg: 'event delivery failed, will retry',
    });
  }

  private async post(
    event: OutboxEvent,
    webhook: NonNullable<AppConfig['webhook']>,
    stop: AbortSignal | undefined,
  ): Promise<Outcome> {
    const now = this.clock.now();
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      timestamp: event.createdAt.toISOString(),
      data: event.payload,
    });
    const timestampSeconds = Math.floor(now.getTime() / 1000);
    const timeout = AbortSignal.timeout(webhook.timeoutMs);
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        redirect: 'manual',
        signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'token-broker-webhooks',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestampSeconds),
          'webhook-signature': signWebhook(this.key!, { id: event.id, timestampSeconds, body }),
        },
        body,
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return {
        ok: false,
        error: `http_${response.status}`,
        retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after'), now),
      };
    } catch (error) {
      return { ok: false, error: transportError(error) };
    }
  }
}

/** Errors from fetch may come from another realm (tests), so they are told apart by name. */
function transportError(error: unknown): string {
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  return 'network_error';
}
