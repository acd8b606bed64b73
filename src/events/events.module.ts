import { Module } from '@nestjs/common';
import { EventRetentionSweep } from './event-retention.sweep.js';
import { OutboxRepository } from './outbox.repository.js';
import { WebhookDelivery } from './webhook-delivery.service.js';
import { WebhookDispatcher } from './webhook.dispatcher.js';

/** Delivery of the events outbox (SPEC "Events") to WEBHOOK_URL, and its retention. Worker role. */
@Module({
  providers: [OutboxRepository, WebhookDelivery, WebhookDispatcher, EventRetentionSweep],
  exports: [WebhookDelivery, WebhookDispatcher, EventRetentionSweep],
})
export class EventsModule {}
