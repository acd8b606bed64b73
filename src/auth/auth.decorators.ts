import { SetMetadata } from '@nestjs/common';
import type { Action } from './caller.js';

export const ACCESS_METADATA = 'token-broker:access';

export type AccessRule = { type: 'public' } | { type: 'service'; action?: Action };

/** Reachable without a service key (browser flows, health, docs). */
export const Public = () => SetMetadata(ACCESS_METADATA, { type: 'public' } satisfies AccessRule);

/**
 * Requires a valid service key, and the named action when given. Routes
 * without `@Public()` or `@RequireService()` are refused by the guard.
 */
export const RequireService = (action?: Action) =>
  SetMetadata(ACCESS_METADATA, { type: 'service', action } satisfies AccessRule);
