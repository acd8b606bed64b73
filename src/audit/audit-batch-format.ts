import type { AuditAction, AuditEntry, AuditRecord } from './audit-entry.js';

/**
 * How a batch's events are stored in `audit_batches.events`: one JSON array
 * per line, joined by "\n" (JSON never holds a raw newline, so a line is an
 * event). The text is stored verbatim and its hash covers exactly these
 * bytes, so it is never re-serialised.
 *
 * - Format 1, converted from the one-row-per-event table: each line is
 *   `[id, action, connection_id, tenant_id, service_key_id, request_id,
 *   token_fingerprint, detail, created_at_ms]`, written by PostgreSQL's
 *   `audit_event_text` (jsonb's text form).
 * - Format 2, written by AuditAppender: the same without the id. The ids are
 *   first_event_id, first_event_id + 1, … in line order, and the digest
 *   covers first_event_id (see audit_batch_digest in the migration).
 */
export const LEGACY_FORMAT = 1;
export const BATCH_FORMAT = 2;

/** A UUID column's value; anything else (an id from a URL) is stored as null. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidOrNull(value: string | undefined): string | null {
  return value !== undefined && UUID.test(value) ? value.toLowerCase() : null;
}

/**
 * One format 2 line (`connectionId`: the entry's, as uuidOrNull gives it).
 * A NUL character (which jsonb, and so the view `audit_events`, cannot
 * hold) becomes U+FFFD; nothing the broker records should carry one, but
 * one that did must not make the trail unreadable.
 */
export function encodeEvent(
  entry: AuditEntry,
  connectionId: string | null = uuidOrNull(entry.connectionId),
): string {
  const line = JSON.stringify([
    entry.action,
    connectionId,
    entry.tenantId ?? null,
    uuidOrNull(entry.serviceKeyId),
    entry.requestId ?? null,
    entry.tokenFingerprint ?? null,
    entry.detail ?? null,
    entry.at.getTime(),
  ]);
  return line.includes('\\u0000') ? line.replaceAll('\\u0000', '\\ufffd') : line;
}

type Line = [
  AuditAction,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  AuditEntry['detail'] | null,
  number,
];

/** The id a format 1 line starts with, read as text: a JSON number would lose digits past 2^53. */
const LEADING_ID = /^\[(\d+),/;

/** The events of one batch, in line (and id) order (without batchSeq: the caller knows it). */
export function decodeBatch(batch: {
  format: number;
  firstEventId: bigint;
  events: string;
}): AuditRecord[] {
  if (!batch.events) return [];
  return batch.events.split('\n').map((text, index) => {
    const values = JSON.parse(text) as unknown[];
    let id = batch.firstEventId + BigInt(index);
    if (batch.format === LEGACY_FORMAT) {
      const leading = LEADING_ID.exec(text);
      if (!leading) throw new Error(`audit batch ${batch.firstEventId}: a line without an id`);
      id = BigInt(leading[1]!);
      values.shift();
    } else if (batch.format !== BATCH_FORMAT) {
      throw new Error(`audit batch ${batch.firstEventId}: unknown format ${batch.format}`);
    }
    const [action, connectionId, tenantId, serviceKeyId, requestId, fingerprint, detail, ms] =
      values as Line;
    return {
      id,
      action,
      ...(connectionId !== null && { connectionId }),
      ...(tenantId !== null && { tenantId }),
      ...(serviceKeyId !== null && { serviceKeyId }),
      ...(requestId !== null && { requestId }),
      ...(fingerprint !== null && { tokenFingerprint: fingerprint }),
      ...(detail !== null && { detail }),
      at: new Date(ms),
    };
  });
}
