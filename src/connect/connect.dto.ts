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
  /**
   * Reconnect this connection (same tenant and integration): the grant must
   * be for the same account, and asks for its granted scopes plus those its
   * synced models miss (incremental consent) plus `scopes`.
   */
  connectionId: z.uuid().optional(),
});

export type CreateConnectSessionBody = z.infer<typeof createConnectSessionSchema>;

export const finalizeConnectSessionSchema = z.strictObject({
  finalizeToken: z.string().min(1).max(256),
  endUserId: identifier,
});

export type FinalizeConnectSessionBody = z.infer<typeof finalizeConnectSessionSchema>;

const timestamp = z.iso.datetime({ offset: true });

export const connectSessionCreatedSchema = z
  .object({
    id: z.uuid(),
    token: z
      .string()
      .describe("The session's own token (in connectUrl): the browser may read the status with it"),
    connectUrl: z.url().describe('Where the "Connect CRM" button sends the browser'),
    expiresAt: timestamp,
  })
  .meta({ id: 'ConnectSessionCreated' });

export const connectSessionStatusSchema = z
  .object({
    id: z.uuid(),
    integration: z.string(),
    tenantId: z.string(),
    expiresAt: timestamp,
    status: z.enum(['pending', 'completed', 'awaiting_finalize', 'failed', 'expired']),
    connectionId: z.uuid().optional().describe('With completed'),
    error: z.string().optional().describe('With failed: a fixed code such as access_denied'),
  })
  .meta({ id: 'ConnectSessionStatus' });

export const finalizeResultSchema = z
  .object({ connectionId: z.uuid(), status: z.literal('active') })
  .meta({ id: 'FinalizeResult' });

export type ConnectSessionCreatedDto = z.infer<typeof connectSessionCreatedSchema>;
export type ConnectSessionStatusDto = z.infer<typeof connectSessionStatusSchema>;
export type FinalizeResultDto = z.infer<typeof finalizeResultSchema>;
