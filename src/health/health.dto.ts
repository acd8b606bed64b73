import { z } from 'zod';

export const livenessSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

export const readinessSchema = z
  .object({
    status: z
      .enum(['ok', 'degraded', 'unavailable', 'shutting_down'])
      .describe('degraded: Redis is down; tokens are still served (200)'),
    checks: z.record(z.string(), z.enum(['ok', 'failed'])),
  })
  .meta({ id: 'Readiness' });
