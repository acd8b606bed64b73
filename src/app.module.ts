import { type DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ConnectModule } from './connect/connect.module.js';
import { ConnectionsModule } from './connections/connections.module.js';
import { type CoreOptions, CoreModule } from './config/core.module.js';
import { CryptoModule } from './crypto/crypto.module.js';
import { DocsModule } from './docs/docs.module.js';
import { HealthModule } from './health/health.module.js';
import { InfraModule } from './infra/infra.module.js';
import { LocksModule } from './infra/locks/locks.module.js';
import { MetricsModule } from './infra/metrics/metrics.module.js';
import { QueueModule } from './infra/queue/queue.module.js';
import { InternalApiModule } from './internal-api/internal-api.module.js';
import { KeyRotationModule } from './key-rotation/key-rotation.module.js';
import { ProxyModule } from './proxy/proxy.module.js';
import { RefreshModule } from './refresh/refresh.module.js';
import { WorkerModule } from './worker/worker.module.js';

@Module({})
export class AppModule {
  /** HTTP edges load in the `api` role, processors and sweeps in `worker`; `all` has both. */
  static forRoot(options: CoreOptions): DynamicModule {
    const http = options.config.role !== 'worker';
    const worker = options.config.role !== 'api';
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(options),
        InfraModule,
        CryptoModule,
        AuditModule,
        ConnectionsModule,
        // Both roles: its start-up check refuses keys that cannot read what is stored.
        KeyRotationModule,
        RefreshModule,
        LocksModule,
        MetricsModule,
        QueueModule,
        ...(http
          ? [
              AuthModule,
              ConnectModule,
              InternalApiModule,
              ProxyModule,
              HealthModule,
              DocsModule,
              AdminModule,
            ]
          : []),
        ...(worker ? [WorkerModule] : []),
      ],
    };
  }
}
