import { type DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ConnectModule } from './connect/connect.module.js';
import { ConnectionsModule } from './connections/connections.module.js';
import { type CoreOptions, CoreModule } from './config/core.module.js';
import { CryptoModule } from './crypto/crypto.module.js';
import { HealthModule } from './health/health.module.js';
import { InfraModule } from './infra/infra.module.js';
import { InternalApiModule } from './internal-api/internal-api.module.js';
import { RefreshModule } from './refresh/refresh.module.js';

@Module({})
export class AppModule {
  /** The HTTP edges load only in the `api` role; the same services back both roles. */
  static forRoot(options: CoreOptions): DynamicModule {
    const http = options.config.role !== 'worker';
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(options),
        InfraModule,
        CryptoModule,
        AuditModule,
        ConnectionsModule,
        RefreshModule,
        ...(http ? [AuthModule, ConnectModule, InternalApiModule, HealthModule] : []),
      ],
    };
  }
}
