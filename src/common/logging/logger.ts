import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../../config/app-config.js';
import { redact, scrubString } from './redact.js';

/**
 * The process logger: JSON lines, and every record redacted before it is
 * serialised (see redact.ts). Tests pass their own destination to capture
 * the whole output and prove that no secret reaches it.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'token-broker' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redact(record) as Record<string, unknown>,
      },
      hooks: {
        // Redacts the message string and any interpolation arguments.
        logMethod(args, method) {
          const cleaned = args.map((arg) =>
            typeof arg === 'string' ? scrubString(arg) : redact(arg),
          );
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
      serializers: { err: (error: unknown) => redact(error) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
