import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { Clock, SystemClock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { ProviderCatalogue } from '../providers/provider-catalogue.js';
import { AppConfig } from './app-config.js';

export interface CoreOptions {
  config: AppConfig;
  integrations: readonly Integration[];
  catalogue: ProviderCatalogue;
  logger: PinoLogger;
  /** Tests pass a controllable clock. */
  clock?: Clock;
}

/** What every part of the process shares: config, catalogue, integrations, clock (the logger reaches Nest through NestPinoLogger). */
@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: AppConfig, useValue: options.config },
        { provide: ProviderCatalogue, useValue: options.catalogue },
        { provide: IntegrationRegistry, useValue: new IntegrationRegistry(options.integrations) },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
      ],
      exports: [AppConfig, ProviderCatalogue, IntegrationRegistry, Clock],
    };
  }
}
