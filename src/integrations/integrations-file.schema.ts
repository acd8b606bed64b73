import { z } from 'zod';

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, - and _');
const scope = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'is not a valid scope token');
const path = z.string().min(1);

const paginationSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('cursor'),
    cursorParam: z.string().min(1),
    nextCursorPath: path,
    limitParam: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
  }),
  z.strictObject({
    type: z.literal('page'),
    pageParam: z.string().min(1),
    firstPage: z.number().int().min(0).default(1),
    limitParam: z.string().min(1),
    limit: z.number().int().min(1).max(10_000).default(100),
  }),
  z.strictObject({
    type: z.literal('offset'),
    offsetParam: z.string().min(1),
    limitParam: z.string().min(1),
    limit: z.number().int().min(1).max(10_000).default(100),
  }),
  z.strictObject({
    type: z.literal('link'),
    limitParam: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
  }),
]);

const modelSchema = z.strictObject({
  path: z.string().regex(/^\//, 'must start with /'),
  itemsPath: z.string().optional(),
  idField: path.default('id'),
  updatedAtField: path.optional(),
  /** A field that marks a record deleted at the provider (tombstones in incremental answers). */
  deletedField: path.optional(),
  pagination: paginationSchema,
  updatedSinceParam: z.string().min(1).optional(),
});

export const apiSchema = z.strictObject({
  baseUrl: z.string().url(),
  models: z.record(slug, modelSchema),
});

const duration = z.string().regex(/^\d+(s|m|h|d)$/, 'must look like 30s, 15m, 1h or 1d');

export const syncSchema = z.strictObject({
  models: z.array(slug).min(1),
  every: duration.optional(),
});

const accountSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('id_token') }),
  z.strictObject({
    type: z.literal('http'),
    url: z.string().url(),
    idPath: path,
    emailPath: path.optional(),
    namePath: path.optional(),
  }),
  z.strictObject({ type: z.literal('end_user') }),
]);

export const integrationEntrySchema = z.strictObject({
  key: slug,
  provider: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scopes: z.array(scope).default([]),
  requiredScopes: z.array(scope).optional(),
  issuer: z.string().url().optional(),
  authorizationUrl: z.string().url().optional(),
  tokenUrl: z.string().url().optional(),
  revocationUrl: z.string().url().optional(),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  scopeSeparator: z.enum([' ', ',']).optional(),
  authorizationParams: z.record(z.string(), z.string()).optional(),
  defaultTokenLifetimeSeconds: z.number().int().min(60).optional(),
  account: accountSchema.optional(),
  revokeSupersededGrants: z.boolean().optional(),
  requireFinalize: z.boolean().default(false),
  api: apiSchema.optional(),
  sync: syncSchema.optional(),
});

export const integrationsFileSchema = z.strictObject({
  integrations: z.array(integrationEntrySchema),
});

export type IntegrationEntry = z.infer<typeof integrationEntrySchema>;
export type ApiConfig = z.infer<typeof apiSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type SyncConfig = z.infer<typeof syncSchema>;
