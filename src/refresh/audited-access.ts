import type { AuditAction } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Caller } from '../auth/caller.js';
import { AppError } from '../common/errors/app-error.js';
import type { Connection } from '../connections/connection.js';
import type { Clock } from '../infra/clock/clock.js';
import { assertCallerMayUse } from '../connections/connection-access.js';

/**
 * assertCallerMayUse for the token-handing paths (read, proxy, rejected
 * token, forced refresh), with a refusal (another tenant's or a missing
 * connection, an integration not granted) audited as a refused token read
 * naming what was `attempted`: probing for other tenants' connections
 * leaves a trail.
 */
export function mayUseAudited<T extends Connection>(
  audit: AuditLog,
  clock: Clock,
  caller: Caller,
  connectionId: string,
  connection: T | undefined,
  attempted: AuditAction,
): T {
  try {
    return assertCallerMayUse(caller, connection);
  } catch (error) {
    audit.recordInBackground({
      at: clock.now(),
      action: 'token.read_refused',
      connectionId,
      ...(connection && { tenantId: connection.tenantId }),
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
      detail: {
        attempted,
        code: error instanceof AppError ? error.code : 'unknown',
        ...(connection === undefined && { reason: 'no such connection' }),
      },
    });
    throw error;
  }
}
