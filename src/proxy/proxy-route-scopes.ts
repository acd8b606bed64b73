import { PermissionError } from '../common/errors/app-error.js';
import type { Connection } from '../connections/connection.js';
import type { Integration } from '../integrations/integration.js';
import { missingRouteScopes } from '../integrations/route-scopes.js';
import type { ProxyTarget } from './proxy-path.js';

/**
 * Before any provider call: a call under a declared route (the catalogue's
 * or the integration's `proxyRoutes`) whose scopes the grant lacks would be
 * refused by the provider; only a reconnect asking for them can help.
 */
export function assertRouteScopes(
  integration: Integration,
  connection: Connection,
  method: string,
  target: ProxyTarget,
): void {
  const missing = missingRouteScopes(integration, connection.scopes, method, target.path);
  if (missing.length)
    throw new PermissionError(
      'insufficient_scope',
      `The connection was not granted ${missing.join(', ')}, which ${method} ${target.routeForm} needs`,
    );
}
