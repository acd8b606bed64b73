import { ValidationError } from '../common/errors/app-error.js';

/** Opaque keyset cursor of the records API: the (modifiedAt, id) of the last record of a page. */
export function encodeRecordCursor(position: { modifiedAt: Date; externalId: string }): string {
  return Buffer.from(
    JSON.stringify({ m: position.modifiedAt.toISOString(), i: position.externalId }),
  ).toString('base64url');
}

export function decodeRecordCursor(cursor: string): { modifiedAt: Date; externalId: string } {
  try {
    const { m, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      m: unknown;
      i: unknown;
    };
    const modifiedAt = new Date(String(m));
    if (typeof i !== 'string' || Number.isNaN(modifiedAt.getTime())) throw new Error('bad cursor');
    return { modifiedAt, externalId: i };
  } catch {
    throw new ValidationError('invalid_cursor', 'The cursor is not one this API returned');
  }
}
