import type { Connection } from './connection.js';

/** Event types of SPEC "Events"; written to the outbox in the transaction that causes them. */
export type ConnectionEventType =
  | 'connection.created'
  | 'connection.reauth_required'
  | 'connection.recovered'
  | 'connection.revoked'
  | 'connection.scope_drift';

export function connectionEvent(
  type: ConnectionEventType,
  connection: Pick<Connection, 'id' | 'tenantId' | 'integrationKey'>,
  detail: Record<string, string | number | boolean | readonly string[]> = {},
) {
  return {
    type,
    connectionId: connection.id,
    tenantId: connection.tenantId,
    payload: {
      connectionId: connection.id,
      tenantId: connection.tenantId,
      integration: connection.integrationKey,
      ...detail,
    },
  };
}
