import { ValidationError } from '../common/errors/app-error.js';

/** What the caller asked for, read off the raw request target (never Fastify's decoded copy). */
export interface ProxyTarget {
  /** The path below the API base URL, as sent (still percent-encoded), starting with `/`. */
  path: string;
  /** The query string as sent, without `?` ('' when none). */
  query: string;
  /** The path with every segment that looks like an id or a value replaced by `:id`, for the audit trail. */
  routeForm: string;
}

const PREFIX = '/v1/proxy/';

function pathInvalid(why: string): ValidationError {
  return new ValidationError('proxy_path_invalid', `The proxied path is refused: ${why}`);
}

/**
 * Splits `/v1/proxy/<connectionId>/<path>?<query>` from the raw request
 * target. The raw form matters: the router decodes `%2F` into a slash and
 * resolves `%2e%2e`, and checking that copy would let an encoded segment
 * reach the provider, whose server decodes it again.
 */
export function proxyTargetOf(rawUrl: string, connectionId: string): ProxyTarget {
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt < 0 ? '' : rawUrl.slice(queryAt + 1);
  const idSegment = `${PREFIX}${connectionId}/`;
  if (!rawPath.startsWith(idSegment)) throw pathInvalid('the connection id is not plain');
  const path = `/${rawPath.slice(idSegment.length)}`;
  assertStaysBelowBase(path);
  assertQueryPlain(query);
  return { path, query, routeForm: routeFormOf(path) };
}

/**
 * The path is appended to the API base URL, so it must not be able to leave
 * it: no dot segments (plain or percent-encoded, which URL parsers and
 * servers resolve), no empty segment (`//host` reads as a new authority), no
 * scheme (`https:`), no backslash (WHATWG URLs read it as a slash), no
 * encoded slash or backslash (a server may decode it into a separator), no
 * control character. Checked segment by segment on the encoded form and on
 * its decoding, so double encoding (`%252e`) is refused too.
 */
export function assertStaysBelowBase(path: string): void {
  if (!path.startsWith('/') || path === '/') throw pathInvalid('it is empty');
  if (/[\\\u0000-\u001f\u007f\s]/.test(path))
    throw pathInvalid('it has a backslash, blank or control character');
  const segments = path.slice(1).split('/');
  const first = segments[0]!;
  if (/^[a-z][a-z0-9+.-]*:/i.test(first)) throw pathInvalid('it starts with a URL scheme');
  segments.forEach((segment, index) => {
    // A trailing slash is part of some APIs' paths; an empty segment anywhere else is not.
    if (segment === '') {
      if (index === segments.length - 1 && index > 0) return;
      throw pathInvalid('it has an empty segment (//)');
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw pathInvalid('it has a malformed percent-encoding');
    }
    if (/[/\\\u0000-\u001f\u007f]/.test(decoded))
      throw pathInvalid('it has an encoded slash, backslash or control character');
    if (decoded === '.' || decoded === '..') throw pathInvalid('it has a dot segment');
    if (/%(2e|2f|5c|00)/i.test(decoded)) throw pathInvalid('it is encoded twice');
  });
}

/** The query is forwarded as sent; only what could split the request is refused. */
function assertQueryPlain(query: string): void {
  if (/[\u0000-\u001f\u007f\s#]/.test(query))
    throw pathInvalid('the query has a control character');
}

/**
 * The path without the values in it: segments with a digit, or longer than
 * a word, become `:id`. The audit row says which endpoint was called, not
 * which record (ids of people are personal data the trail should not hold).
 */
export function routeFormOf(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      segment === '' || /^[A-Za-z_-]{1,40}$/.test(segment) || /^v\d{1,2}(\.\d{1,2})?$/.test(segment)
        ? segment
        : ':id',
    )
    .join('/');
}
