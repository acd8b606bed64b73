import { z } from 'zod';

/**
 * Every background job: its name (`area.verb`), its queue, and its payload
 * schema, checked again when a worker picks the job up. Payloads carry ids,
 * never tokens.
 */
export const JOBS = {
  'refresh.connection': {
    queue: 'refresh',
    payload: z.strictObject({ connectionId: z.string().uuid() }),
  },
  'credentials.reencrypt': {
    queue: 'maintenance',
    payload: z.strictObject({}),
  },
  'revocation.deliver': {
    queue: 'revocation',
    payload: z.strictObject({ revocationId: z.string().uuid() }),
  },
  'sync.run': {
    queue: 'sync',
    payload: z.strictObject({ syncRunId: z.string().uuid() }),
  },
  'sync.schedule': {
    queue: 'sync',
    payload: z.strictObject({ connectionId: z.string().uuid(), model: z.string().min(1) }),
  },
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;
export type QueueName = (typeof JOBS)[JobName]['queue'];
