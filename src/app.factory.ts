import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { Metrics } from './infra/metrics/metrics.js';
import { registerConnectSessionCors } from './connect/connect-session-cors.js';
import { registerProxyBodyPassThrough } from './proxy/proxy-body.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { clientErrorHandler, frameworkErrorHandler } from './common/errors/framework-errors.js';
import { NestPinoLogger } from './common/logging/nest-logger.js';
import { ConnectionDrain } from './common/http/connection-drain.js';
import { attachInternalListener } from './common/http/listeners.js';
import { isQuietOnSuccess } from './common/http/quiet-on-success.js';
import type { CoreOptions } from './config/core.module.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BODY_LIMIT_BYTES = 64 * 1024;

/** Builds the HTTP application (roles `api` and `all`), initialised but not listening. */
export async function createHttpApp(options: CoreOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    logger: false,
    // Closing is the drain's (connection-drain.ts): a request that arrives
    // on an open connection while we stop is answered, not refused.
    return503OnClosing: false,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: frameworkErrorHandler(options.logger),
    clientErrorHandler: clientErrorHandler(options.logger),
    // A caller's request id is kept when it is harmless, for tracing across services.
    genReqId: (request: IncomingMessage) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(options),
    adapter,
    {
      logger: new NestPinoLogger(options.logger),
      abortOnError: false,
    },
  );
  await app.register(fastifyCookie);
  app.useGlobalFilters(new AllExceptionsFilter());
  const fastify = app.getHttpAdapter().getInstance();
  const drain = new ConnectionDrain();
  drain.track(fastify.server);
  if (options.config.http.internal) attachInternalListener(fastify, drain);
  // Before Fastify closes the servers itself (and, with them, idle connections).
  fastify.addHook('preClose', () => drain.close());
  // The proxy's bodies stream past the 64 KiB limit (PROXY_MAX_BODY_BYTES).
  registerProxyBodyPassThrough(fastify);
  registerConnectSessionCors(fastify, [
    ...new Set(options.config.allowedReturnUrls.map((url) => url.origin)),
  ]);
  // The hooks every request runs are callback style: no promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    // Closing: this is the connection's last answer; the caller reconnects elsewhere.
    if (drain.closing) reply.header('connection', 'close');
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    done();
  });
  // One line per request; the route pattern, never the URL, so query strings
  // (connect session tokens, authorization codes) stay out of the log.
  // Routes marked @QuietOnSuccess (probes, scrapes, token reads) are only
  // counted when they succeed.
  const metrics = app.get(Metrics);
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.observe(
      { method: request.method, route, status: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode < 400 && isQuietOnSuccess(request.routeOptions.config)) return done();
    options.logger.info(
      {
        requestId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });
  // Signals are handled in main.ts (graceful-shutdown.ts): HTTP drains before the hooks run.
  await app.init();
  return app;
}

/** The worker role: the same modules without HTTP. */
export async function createWorkerContext(options: CoreOptions): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(options), {
    logger: new NestPinoLogger(options.logger),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  await app.init();
  return app;
}
