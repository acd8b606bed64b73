import { ValidationError } from '../common/errors/app-error.js';

/** An opaque keyset cursor: the (createdAt, id) of the last item of a page. */
export interface ListPosition {
  createdAt: Date;
  id: string;
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(
    JSON.stringify({ t: position.createdAt.toISOString(), i: position.id }),
  ).toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  try {
    const { t, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      t: unknown;
      i: unknown;
    };
    const createdAt = new Date(String(t));
    if (typeof i !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor');
    return { createdAt, id: i };
  } catch {
    throw new ValidationError('invalid_cursor', 'The cursor is not one this API returned');
  }
}
