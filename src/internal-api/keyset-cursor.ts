import { ValidationError } from '../common/errors/app-error.js';

/**
 * An opaque keyset cursor: the (time, id) of the last item of a page, for
 * listings ordered by a timestamp with the id breaking ties.
 */
export interface KeysetPosition {
  at: Date;
  id: string;
}

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify({ t: position.at.toISOString(), i: position.id })).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string): KeysetPosition {
  try {
    const { t, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      t: unknown;
      i: unknown;
    };
    const at = new Date(String(t));
    if (typeof i !== 'string' || Number.isNaN(at.getTime())) throw new Error('bad cursor');
    return { at, id: i };
  } catch {
    throw new ValidationError('invalid_cursor', 'The cursor is not one this API returned');
  }
}
