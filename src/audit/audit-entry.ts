/** What the audit trail records. */
export type AuditAction =
  | 'token.read'
  | 'token.read_refused'
  | 'token.refreshed'
  | 'token.refresh_forced'
  | 'token.rejected_replaced'
  | 'connection.created'
  | 'connection.updated'
  | 'connection.revoked'
  | 'connection.reauth_required'
  | 'connect.finalize_refused'
  | 'grant.revocation_delivered'
  | 'request.refused'
  | 'proxy.request';

export interface AuditEntry {
  action: AuditAction;
  connectionId?: string;
  tenantId?: string;
  serviceKeyId?: string;
  requestId?: string;
  /** Keyed HMAC of the access token involved (`TokenFingerprint`), never the token. */
  tokenFingerprint?: string;
  /** Never a secret: ids, flags and counts only. */
  detail?: Record<string, string | number | boolean | null>;
  /** When it happened (the write may come a moment later). */
  at: Date;
}

/** One stored audit event, as `GET /v1/audit` pages through them and a batch decodes to. */
export interface AuditRecord extends Omit<AuditEntry, 'at'> {
  id: bigint;
  at: Date;
  /** The chained batch it was written in (absent for events from before the chain). */
  batchSeq?: bigint;
}

/**
 * Who set an action going, when it completes later or elsewhere (a
 * revocation delivered after a disconnect, a grant stored at the callback of
 * a session some key created): the row names that caller and request.
 */
export type AuditOrigin = Pick<AuditEntry, 'serviceKeyId' | 'requestId'>;
