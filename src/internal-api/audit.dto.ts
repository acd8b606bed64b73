import { z } from 'zod';

export const auditQuerySchema = z.strictObject({
  connectionId: z.uuid().optional(),
  /** The `nextCursor` of the previous page. */
  after: z
    .string()
    .regex(/^\d{1,19}$/, 'a nextCursor from this API')
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export type AuditQueryDto = z.infer<typeof auditQuerySchema>;
