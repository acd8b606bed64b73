import { type Caller, canSeeTenant, canUseIntegration } from '../auth/caller.js';
import { NotFoundError, PermissionError } from '../common/errors/app-error.js';
import type { Connection } from './connection.js';

export function connectionNotFound(): NotFoundError {
  return new NotFoundError('connection_not_found', 'No such connection');
}

/**
 * Another tenant's connection is indistinguishable from a missing one (404),
 * so ids cannot be probed across tenants. Within a visible tenant, an
 * integration the key is not granted is a 403.
 */
export function assertCallerMayUse<T extends Connection>(
  caller: Caller,
  connection: T | undefined,
): T {
  if (!connection || !canSeeTenant(caller, connection.tenantId)) throw connectionNotFound();
  if (!canUseIntegration(caller, connection.integrationKey)) {
    throw new PermissionError(
      'integration_not_granted',
      `This service key is not granted integration "${connection.integrationKey}"`,
    );
  }
  return connection;
}
