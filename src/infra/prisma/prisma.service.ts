import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfig } from '../../config/app-config.js';
import { PrismaClient } from './generated/client.js';

/** The one database client. Only repositories use it. */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(@Inject(AppConfig) config: Pick<AppConfig, 'databaseUrl'>) {
    super({ adapter: new PrismaPg({ connectionString: config.databaseUrl.reveal(), max: 10 }) });
  }

  // Closed in the last shutdown phase: jobs finishing their step in onModuleDestroy still need it.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
