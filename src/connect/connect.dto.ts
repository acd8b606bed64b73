import { z } from 'zod';

const identifier = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export const createConnectSessionSchema = z.strictObject({
  integration: z.string().min(1).max(64),
  tenantId: identifier,
  endUserId: identifier.optional(),
  returnTo: z.string().min(1).max(2048).optional(),
  scopes: z
    .array(
      z
        .string()
        .min(1)
        .max(256)
        .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'is not a valid scope'),
    )
    .max(50)
    .optional(),
});

export type CreateConnectSessionBody = z.infer<typeof createConnectSessionSchema>;

export const finalizeConnectSessionSchema = z.strictObject({
  finalizeToken: z.string().min(1).max(256),
  endUserId: identifier,
});

export type FinalizeConnectSessionBody = z.infer<typeof finalizeConnectSessionSchema>;
