import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpApp } from '../../src/app.factory.js';
import { ServiceKeysService } from '../../src/auth/service-keys.service.js';
import type { Action } from '../../src/auth/caller.js';
import { createLogger } from '../../src/common/logging/logger.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Clock } from '../../src/infra/clock/clock.js';
import { parseIntegrations } from '../../src/integrations/load-integrations.js';
import { ProviderCatalogue } from '../../src/providers/provider-catalogue.js';
import { LogCapture } from './log-capture.js';
import { testEnv } from './test-env.js';

export interface TestBroker {
  app: NestFastifyApplication;
  url: string;
  config: AppConfig;
  logs: LogCapture;
  encryptionKeys: string;
  redisPrefix: string;
  createKey(options?: {
    tenants?: string[];
    integrations?: string[];
    actions?: Action[];
  }): Promise<string>;
  stop(): Promise<void>;
}

export interface StartBrokerOptions {
  /** The integrations file, as YAML. */
  integrationsYaml: string;
  /** Environment for `${VAR}` references and overrides of the defaults below. */
  env?: Record<string, string>;
  /** A fixed port, when the provider must know the callback URL before the broker starts. */
  port?: number;
  clock?: Clock;
  /** Brokers of one deployment share a prefix; by default each broker gets its own. */
  redisPrefix?: string;
}

/** Boots the real broker (HTTP on loopback) against the run's PostgreSQL and Redis. */
export async function startBroker(options: StartBrokerOptions): Promise<TestBroker> {
  const { databaseUrl, redisUrl, redisPrefix, encryptionKeys } = testEnv();
  const port = options.port ?? 0;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: options.redisPrefix ?? `${redisPrefix}${randomBytes(4).toString('hex')}:`,
    // Tests run the sweeps by hand, on their own clock.
    SWEEP_INTERVAL_SECONDS: '0',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOST: '127.0.0.1',
    PORT: String(port),
    ENCRYPTION_KEYS: encryptionKeys,
    INTEGRATIONS_FILE: '(inline)',
    ALLOWED_RETURN_URLS: 'http://127.0.0.1:5999/app',
    ALLOW_INSECURE_LOOPBACK_PROVIDERS: 'true',
    LOG_LEVEL: 'debug',
    ...options.env,
  };
  const config = loadConfig(env);
  const logs = new LogCapture();
  const logger = createLogger(config.logLevel, logs);
  const catalogue = new ProviderCatalogue();
  const integrations = parseIntegrations(options.integrationsYaml, {
    env,
    catalogue,
    allowInsecureLoopbackProviders: config.allowInsecureLoopbackProviders,
  });
  const app = await createHttpApp({
    config,
    integrations,
    catalogue,
    logger,
    clock: options.clock,
  });
  await app.listen({ port, host: '127.0.0.1' });
  const actualPort = (app.getHttpServer().address() as AddressInfo).port;
  const url = `http://127.0.0.1:${actualPort}`;
  const keys = app.get(ServiceKeysService);
  return {
    app,
    url,
    config,
    logs,
    encryptionKeys: env.ENCRYPTION_KEYS!,
    redisPrefix: env.REDIS_PREFIX!,
    createKey: async (grants = {}) => (await keys.create({ name: 'test', ...grants })).key,
    stop: () => app.close(),
  };
}

/** A free TCP port on loopback (for providers that must know the broker's callback URL first). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
