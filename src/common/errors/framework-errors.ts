import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ErrorCode } from './error-codes.js';
import { errorEnvelope } from './error-envelope.js';

/**
 * Fastify's own errors, raised before any route (and so before the exception
 * filter) runs: a URL it cannot decode, a header constraint. Same envelope,
 * no echo of the URL (it may carry a code or a state), never cached.
 */
export function frameworkErrorHandler(logger: Logger) {
  return (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
    logger.warn(
      { requestId: request.id, errorCode: 'bad_request_url', fastify: error.code },
      'framework error',
    );
    void reply
      .code(400)
      .header('cache-control', 'no-store')
      .send(
        errorEnvelope(
          'bad_request_url',
          'The request URL or its headers cannot be parsed',
          request.id,
        ),
      );
  };
}

/**
 * Node's HTTP parser errors (oversized or malformed headers, bad request
 * lines): answered with the envelope on the raw socket, since no request
 * object exists yet.
 */
export function clientErrorHandler(logger: Logger) {
  return (error: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const [status, text, code, message]: [number, string, ErrorCode, string] = tooLarge
      ? [
          431,
          'Request Header Fields Too Large',
          'headers_too_large',
          'The request headers are too large',
        ]
      : [400, 'Bad Request', 'bad_request', 'The request cannot be parsed'];
    logger.warn({ errorCode: code, parser: error.code }, 'client error');
    const body = JSON.stringify(errorEnvelope(code, message, 'none'));
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncache-control: no-store\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
}
