import 'reflect-metadata';
import { createHttpApp, createWorkerContext } from './app.factory.js';
import { startListeners } from './common/http/listeners.js';
import { createLogger } from './common/logging/logger.js';
import { exitWithinDeadline, SHUTDOWN_DEADLINE_MS } from './common/shutdown-deadline.js';
import { closeGracefullyOnSignal } from './common/http/graceful-shutdown.js';
import { HealthService } from './health/health.service.js';
import { ConfigError } from './config/config-error.js';
import { dropParsedSecrets, loadConfig } from './config/load-config.js';
import { assertDatabaseReady, DatabaseNotReadyError } from './infra/prisma/database-readiness.js';
import { loadIntegrationsFile } from './integrations/load-integrations.js';
import { ProviderCatalogue } from './providers/provider-catalogue.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const drainMs = config.role === 'worker' ? 0 : config.shutdownDrainSeconds * 1000;
  const signalled = exitWithinDeadline(logger, drainMs + SHUTDOWN_DEADLINE_MS);
  const catalogue = new ProviderCatalogue();
  const integrations = await loadIntegrationsFile(config.integrationsFile, {
    env: process.env,
    catalogue,
    allowInsecureLoopbackProviders: config.allowInsecureLoopbackProviders,
  });
  dropParsedSecrets(process.env);
  await assertDatabaseReady(config.databaseUrl);
  const options = { config, integrations, catalogue, logger };
  if (config.role === 'worker') {
    const worker = await createWorkerContext(options);
    // Stopped while starting: Nest's hooks were not listening yet.
    if (signalled()) {
      await worker.close();
      process.exit(0);
    }
    logger.info(
      { role: config.role, integrations: integrations.length },
      'token broker worker started',
    );
    return;
  }
  const app = await createHttpApp(options);
  const bound = await startListeners(app, config.http);
  closeGracefullyOnSignal(app, app.get(HealthService), {
    drainMs,
    logger,
    alreadyReceived: signalled(),
  });
  logger.info(
    {
      role: config.role,
      port: bound.public.port,
      ...(bound.internal && { internalPort: bound.internal.port }),
      integrations: integrations.length,
    },
    'token broker listening',
  );
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: one clear line, no stack.
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
  } else if (error instanceof DatabaseNotReadyError) {
    process.stderr.write(`Database not ready: ${error.message}\n`);
  } else {
    process.stderr.write(
      `Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  process.exit(1);
});
