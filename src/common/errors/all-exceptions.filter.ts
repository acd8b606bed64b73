import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderErrorPage } from '../http/result-page.js';
import { AppError, ProviderError, retryAfterOf } from './app-error.js';
import type { ErrorCode } from './error-codes.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { isDatabaseUnavailable, isRedisUnavailable } from './dependency-errors.js';
import { errorEnvelope } from './error-envelope.js';
import { statusOfKind } from './error-status.js';

/**
 * What a caller is told to wait when a 503 has no better figure (a
 * dependency down, a provider timing out): every 503 says when to retry.
 */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Our own dependencies, Redis first: its client's failures are recognised
 * by their shape, while a refused TCP connection alone could be either.
 */
const DEPENDENCY_OUTAGES: { name: string; code: ErrorCode; matches: (e: unknown) => boolean }[] = [
  { name: 'Redis', code: 'redis_unavailable', matches: isRedisUnavailable },
  { name: 'PostgreSQL', code: 'database_unavailable', matches: isDatabaseUnavailable },
];

interface Described {
  status: number;
  code: ErrorCode;
  retryAfterSeconds?: number;
  message: string;
}

/**
 * The only place that turns failures into HTTP answers. Known errors keep
 * their code and message; anything else becomes a 500 that says nothing but
 * the request id, with the details (redacted) in the log.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');
  private readonly outageLogs = new Map(
    DEPENDENCY_OUTAGES.map((dependency) => [dependency.code, new ThrottledLog()]),
  );

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const described = this.describe(exception, request);
    reply.header('cache-control', 'no-store');
    const retryAfter =
      retryAfterOf(exception) ??
      described.retryAfterSeconds ??
      (described.status === 503 ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined);
    if (retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, retryAfter)));
    if (wantsHtml(request)) {
      reply
        .status(described.status)
        .type('text/html; charset=utf-8')
        .send(renderErrorPage(described.code, described.message, request.id));
      return;
    }
    reply
      .status(described.status)
      .send(errorEnvelope(described.code, described.message, request.id));
  }

  private describe(exception: unknown, request: FastifyRequest): Described {
    if (exception instanceof AppError) {
      const status = statusOfKind[exception.kind];
      if (exception instanceof ProviderError) {
        this.logger.warn({
          requestId: request.id,
          errorCode: exception.code,
          ...exception.detail,
          err: exception.cause,
          msg: exception.message,
        });
      } else if (status >= 500) {
        this.logger.error({
          requestId: request.id,
          errorCode: exception.code,
          err: exception,
          msg: exception.message,
        });
      }
      return { status, code: exception.code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      // Nest wraps Fastify's own errors (body parsing, limits); the cause says which.
      const transport = fromFastifyError(exception.cause);
      if (transport) return transport;
      const status = exception.getStatus();
      if (status === 404)
        return {
          status,
          code: 'route_not_found',
          message: `No route ${request.method} ${request.url.split('?')[0]}`,
        };
      return {
        status,
        code: status >= 500 ? 'internal_error' : 'bad_request',
        message: exception.message,
      };
    }
    const transport = fromFastifyError(exception);
    if (transport) return transport;
    const outage = DEPENDENCY_OUTAGES.find((dependency) => dependency.matches(exception));
    if (outage) {
      // An outage, not a bug: one line, then one per 30 s, never a stack per request.
      this.outageLogs.get(outage.code)!.maybe((suppressed) =>
        this.logger.error({
          requestId: request.id,
          errorCode: outage.code,
          suppressed,
          msg: `${outage.name} is unreachable; answering 503`,
        }),
      );
      return {
        status: 503,
        code: outage.code,
        message: `${outage.name} is unreachable; retry shortly`,
        retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
      };
    }
    this.logger.error({ requestId: request.id, err: exception, msg: 'unhandled error' });
    return {
      status: 500,
      code: 'internal_error',
      message: 'Internal error; quote the request id when reporting it',
    };
  }
}

/** Errors Fastify raises before our code runs (body parsing, limits). */
function fromFastifyError(exception: unknown): Described | undefined {
  const error = exception as { statusCode?: unknown; code?: unknown; name?: unknown };
  if (typeof error?.statusCode !== 'number' || error.statusCode < 400 || error.statusCode >= 500)
    return undefined;
  const code = typeof error.code === 'string' ? error.code : '';
  if (error.statusCode === 413)
    return { status: 413, code: 'payload_too_large', message: 'The request body is too large' };
  if (error.statusCode === 415)
    return {
      status: 415,
      code: 'unsupported_media_type',
      message: 'Send the body as application/json',
    };
  if (error.name === 'SyntaxError' || code.includes('JSON')) {
    return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON' };
  }
  return {
    status: error.statusCode,
    code: 'bad_request',
    message: 'The request could not be read',
  };
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') && !accept.includes('application/json');
}
