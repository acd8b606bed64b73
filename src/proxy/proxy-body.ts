import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { pipeline, Readable, Transform } from 'node:stream';
import { RouteConfig } from '@nestjs/platform-fastify';
import { errorCodes, type FastifyInstance } from 'fastify';

const KEY = 'proxyStreamedBody';
/** Stands in for the caller's content type while Fastify picks a body parser. */
const STREAM_TYPE = 'application/x-token-broker-proxy-stream';
const originalTypes = new WeakMap<IncomingMessage, string | undefined>();

/**
 * A route whose request body Fastify leaves unread (the API proxy): it is
 * streamed to the provider as it arrives, whatever its type, and the
 * 64 KiB limit of the JSON routes does not apply (the proxy counts against
 * PROXY_MAX_BODY_BYTES itself).
 */
export const ProxyStreamedBody = () => RouteConfig({ [KEY]: true });

/**
 * Fastify chooses a parser by content type, for every route of an instance
 * (JSON would be read and parsed whole, an unknown type refused with 415).
 * For routes marked `ProxyStreamedBody` only, the content type is swapped
 * for one whose parser reads nothing, before parsing, and the caller's is
 * kept for `contentTypeOf`.
 */
export function registerProxyBodyPassThrough(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(STREAM_TYPE, (_request, _payload, done) => done(null, undefined));
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (
      (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[KEY] ===
      true
    ) {
      const headers = request.raw.headers;
      originalTypes.set(request.raw, headers['content-type']);
      headers['content-type'] = STREAM_TYPE;
    }
    done();
  });
}

/** The request's headers as the caller sent them (the content type put back). */
export function callerHeaders(raw: IncomingMessage): IncomingHttpHeaders {
  if (!originalTypes.has(raw)) return raw.headers;
  const headers = { ...raw.headers };
  const original = originalTypes.get(raw);
  if (original === undefined) delete headers['content-type'];
  else headers['content-type'] = original;
  return headers;
}

export function bodyTooLarge(): Error {
  return new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
}

/** What is sent upstream: nothing, the whole body in memory (can be sent again), or a stream (once). */
export type OutgoingBody =
  { kind: 'none' } | { kind: 'buffered'; bytes: Buffer } | { kind: 'streamed'; stream: Readable };

export function hasBody(headers: IncomingHttpHeaders): boolean {
  return (
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0')
  );
}

/**
 * The caller's body, read only as far as needed: a body that may have to be
 * sent twice (a retry after a 401) is kept in memory when it fits
 * `replayBytes`; anything larger, or anything that will not be retried, is
 * streamed once, counted against `maxBytes` on the way (413 past it, before
 * a byte is sent when Content-Length says so).
 */
export async function outgoingBody(
  raw: IncomingMessage,
  options: { wantReplay: boolean; replayBytes: number; maxBytes: number },
): Promise<OutgoingBody> {
  if (!hasBody(raw.headers)) return { kind: 'none' };
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) throw bodyTooLarge();
  const source = raw as Readable;
  // Never keep more than the limit either: a chunked body has no declared size.
  const replayBytes = Math.min(options.replayBytes, options.maxBytes);
  if (!options.wantReplay || declared > replayBytes)
    return { kind: 'streamed', stream: limited(source, options.maxBytes) };
  // One iterator throughout: leaving a for-await loop would destroy the request stream.
  const reader = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  for (let next = await reader.next(); !next.done; next = await reader.next()) {
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > replayBytes) {
      // Too big to keep: what was read goes first, the rest follows as it arrives.
      const rest = Readable.from(continueAfter(chunks, reader));
      return { kind: 'streamed', stream: limited(rest, options.maxBytes) };
    }
  }
  return { kind: 'buffered', bytes: Buffer.concat(chunks) };
}

async function* continueAfter(
  read: Buffer[],
  reader: AsyncIterator<Buffer>,
): AsyncGenerator<Buffer> {
  yield* read;
  for (let next = await reader.next(); !next.done; next = await reader.next()) yield next.value;
}

/** Errors the stream (and so the upstream request) once more than `max` bytes went through. */
function limited(source: Readable, max: number): Readable {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.byteLength;
      if (size > max) callback(bodyTooLarge());
      else callback(null, chunk);
    },
  });
  // A failure on either side ends both (the callback's error is the upstream request's).
  pipeline(source, counter, () => undefined);
  return counter;
}
