import { z } from 'zod';

export const listConnectionsQuerySchema = z.strictObject({
  tenantId: z.string().min(1).max(256).optional(),
  integration: z.string().min(1).max(64).optional(),
  status: z.enum(['pending', 'active', 'needs_reauth', 'revoked']).optional(),
  cursor: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const tokenQuerySchema = z.strictObject({
  minValiditySeconds: z.coerce.number().int().min(0).max(86_400).optional(),
});

/** The token the provider refused, as the caller got it: compared by fingerprint, never kept. */
export const rejectedTokenBodySchema = z.strictObject({
  accessToken: z.string().min(1).max(16_384),
});

export type ListConnectionsQueryDto = z.infer<typeof listConnectionsQuerySchema>;
export type TokenQueryDto = z.infer<typeof tokenQuerySchema>;
export type RejectedTokenBodyDto = z.infer<typeof rejectedTokenBodySchema>;
