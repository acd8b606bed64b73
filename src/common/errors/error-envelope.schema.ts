import { z } from 'zod';

/** Every error answer, everywhere (the global exception filter writes it). */
export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable snake_case code, e.g. needs_reauth'),
      message: z.string().describe('For people; may change'),
      requestId: z.string().describe('Also in the x-request-id header and the logs'),
    }),
  })
  .meta({ id: 'Error' });
