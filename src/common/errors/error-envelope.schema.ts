import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './error-codes.js';

const codes = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** Every error answer, everywhere (the global exception filter writes it). */
export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z
        .enum(codes)
        .describe(
          `Stable snake_case code:\n${codes.map((code) => `- \`${code}\`: ${ERROR_CODES[code][1]}`).join('\n')}`,
        ),
      message: z.string().describe('For people; may change'),
      requestId: z.string().describe('Also in the x-request-id header and the logs'),
    }),
  })
  .meta({ id: 'Error' });
