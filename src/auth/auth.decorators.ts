import { SetMetadata } from '@nestjs/common';
import type { Listener } from '../common/http/listeners.js';
import type { Action } from './caller.js';

export const ACCESS_METADATA = 'token-broker:access';

export type AccessRule =
  { type: 'public' } | { type: 'service'; action?: Action; orConnectSessionToken?: boolean };

/** Reachable without a service key (browser flows, health, docs). */
export const Public = () => SetMetadata(ACCESS_METADATA, { type: 'public' } satisfies AccessRule);

/**
 * Requires a valid service key, and the named action when given. Routes
 * without `@Public()` or `@RequireService()` are refused by the guard.
 */
export const RequireService = (action?: Action) =>
  SetMetadata(ACCESS_METADATA, { type: 'service', action } satisfies AccessRule);

/**
 * A service key with the action, or the connect session's own token (the
 * browser that holds the connect URL already holds it): the route itself
 * checks that the token belongs to the session it reads.
 */
export const RequireServiceOrConnectSession = (action: Action) =>
  SetMetadata(ACCESS_METADATA, {
    type: 'service',
    action,
    orConnectSessionToken: true,
  } satisfies AccessRule);

export const LISTENER_METADATA = 'token-broker:listener';

/**
 * Pins a route to one listener when INTERNAL_PORT splits them (see
 * `listenersOf`): browser flows to the public one, operator surfaces
 * (metrics, dashboard) to the internal one.
 */
export const ServedOn = (listener: Listener) => SetMetadata(LISTENER_METADATA, listener);
