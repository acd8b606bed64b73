import { z } from 'zod';

const model = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'is not a model name');

export const triggerSyncSchema = z.strictObject({
  model: model.optional(),
  /** Force a full run (which also marks records gone from the provider as deleted). */
  full: z.boolean().optional(),
});

export const listSyncsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const recordsQuerySchema = z.strictObject({
  cursor: z.string().min(1).max(1024).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  modifiedAfter: z.iso.datetime({ offset: true }).optional(),
});

export const modelParamSchema = model;

export type TriggerSyncBody = z.infer<typeof triggerSyncSchema>;
export type ListSyncsQuery = z.infer<typeof listSyncsQuerySchema>;
export type RecordsQuery = z.infer<typeof recordsQuerySchema>;
