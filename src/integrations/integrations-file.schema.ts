import { z } from 'zod';
import { hostPattern, modelSchema, slug } from '../providers/api-model.schema.js';
import {
  accountLookupSchema,
  proxyRouteSchema,
  tokenErrorRuleSchema,
} from '../providers/provider-definition.js';
import { maxConcurrencySchema, rateLimitSchema } from '../providers/rate-limit.schema.js';

const scope = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'is not a valid scope token');

/**
 * `api` of an integration: a whole description for the generic providers,
 * or overrides of a built-in provider's (`baseUrl`; models added or
 * replaced by name).
 */
export const apiSchema = z.strictObject({
  /** Another API of the provider (Microsoft: `dynamics`). */
  variant: slug.optional(),
  baseUrl: z.string().url().optional(),
  baseUrlFromExtra: z.string().min(1).optional(),
  allowedHosts: z.array(hostPattern).optional(),
  authorizationScheme: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]*$/)
    .optional(),
  models: z.record(slug, modelSchema).optional(),
  /** Scopes proxied calls under a path prefix need, checked before the provider's own routes. */
  proxyRoutes: z.array(proxyRouteSchema).optional(),
});

const duration = z.string().regex(/^\d+(s|m|h|d)$/, 'must look like 30s, 15m, 1h or 1d');

export const syncSchema = z.strictObject({
  models: z.array(slug).min(1),
  every: duration.optional(),
});

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
  pkce: z.boolean().optional(),
  authorizationParams: z.record(z.string(), z.string()).optional(),
  defaultTokenLifetimeSeconds: z.number().int().min(60).optional(),
  /** Token response fields to keep as `extras` (name → field), added to the provider's. */
  tokenExtras: z.record(z.string().regex(/^[a-z][A-Za-z0-9]*$/), z.string().min(1)).optional(),
  /** Provider-specific token endpoint errors, checked before the provider's own. */
  tokenErrors: z.array(tokenErrorRuleSchema).optional(),
  account: accountLookupSchema.optional(),
  revokeSupersededGrants: z.boolean().optional(),
  /**
   * On by default: without finalize, a connect link opened by someone else
   * attaches their account to the link owner (SPEC "HTTP contract").
   */
  requireFinalize: z.boolean().default(true),
  /** Values of the provider's settings (Microsoft: `tenant`). */
  settings: z.record(z.string(), z.string().min(1)).optional(),
  api: apiSchema.optional(),
  sync: syncSchema.optional(),
  /**
   * What the broker sends this integration's API per connection, syncs and
   * proxy together, across processes (default: the provider's known limits).
   */
  rateLimit: rateLimitSchema.optional(),
  /** Requests in flight at once per connection (default: the provider's). */
  maxConcurrency: maxConcurrencySchema.optional(),
});

export const integrationsFileSchema = z.strictObject({
  integrations: z.array(integrationEntrySchema),
});

export type IntegrationEntry = z.infer<typeof integrationEntrySchema>;
export type SyncConfig = z.infer<typeof syncSchema>;
