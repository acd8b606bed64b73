import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';

export type IntegrationEventType = 'integration.client_rejected' | 'integration.recovered';

/** Outbox events about a whole integration (no connection, no tenant). */
@Injectable()
export class IntegrationEventsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async record(
    type: IntegrationEventType,
    integrationKey: string,
    detail: Record<string, string | number> = {},
  ): Promise<void> {
    await this.prisma.event.create({
      data: { type, payload: { integration: integrationKey, ...detail } },
    });
  }
}
