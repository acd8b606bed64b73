import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';

/**
 * SIGTERM (or SIGINT) for a process that serves HTTP, in the order a load
 * balancer needs:
 *  1. readiness answers 503; requests are still served;
 *  2. after `drainMs` (the balancer notices), the listeners stop accepting
 *     and their connections end without a reset (connection-drain.ts);
 *  3. only then do jobs stop and Redis and PostgreSQL close (Nest's
 *     shutdown hooks), so no request meets a closed pool.
 * The signal is raised again at the end, as Nest's own hooks do, so the
 * process ends as killed by it. The shutdown deadline (shutdown-deadline.ts)
 * still bounds the whole.
 */
export function closeGracefullyOnSignal(
  app: NestFastifyApplication,
  state: { beginShutdown(): void },
  options: { drainMs: number; logger: Logger; alreadyReceived?: NodeJS.Signals },
): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    void (async () => {
      state.beginShutdown();
      options.logger.info({ signal, drainMs: options.drainMs }, 'shutting down: draining');
      await new Promise((resolve) => setTimeout(resolve, options.drainMs));
      try {
        await app.getHttpAdapter().getInstance().close();
        await app.close();
      } catch (error) {
        options.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
      process.kill(process.pid, signal);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Signalled while starting: stop now that the orderly path is in place.
  if (options.alreadyReceived) onSignal(options.alreadyReceived);
}
