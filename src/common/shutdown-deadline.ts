import type { Logger } from 'pino';

/**
 * However a dependency behaves while we stop (Redis away, a provider call
 * hanging), the process is gone this long after SIGTERM or SIGINT (plus the
 * drain, when it serves HTTP): before an orchestrator's SIGKILL (Kubernetes
 * waits 30 s) and before an operator reaches for one. The orderly part is
 * graceful-shutdown.ts and Nest's hooks; this timer only ends what they
 * could not.
 */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * Arms the deadline at the first SIGTERM or SIGINT. Returns what was
 * received so far: a signal that arrives while the process is still starting
 * (its listener here keeps Node from ending the process) is acted on as soon
 * as the orderly shutdown is in place, not forgotten.
 */
export function exitWithinDeadline(
  logger: Logger,
  deadlineMs = SHUTDOWN_DEADLINE_MS,
): () => NodeJS.Signals | undefined {
  let received: NodeJS.Signals | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      received ??= signal;
      setTimeout(() => {
        logger.error({ deadlineMs }, 'shutdown did not finish in time; exiting');
        process.exit(1);
      }, deadlineMs).unref();
    });
  }
  return () => received;
}
