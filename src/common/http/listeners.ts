import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { ConnectionDrain } from './connection-drain.js';

/** Set on the raw request of everything that arrives through the internal listener. */
const INTERNAL_LISTENER = Symbol('token-broker.internal-listener');

type MarkedRequest = IncomingMessage & { [INTERNAL_LISTENER]?: true };

/** Where a route answers when INTERNAL_PORT splits the listeners. */
export type Listener = 'public' | 'internal';

/** Which listener a request came in through ('public' when there is only one). */
export function listenerOf(raw: IncomingMessage): Listener {
  return (raw as MarkedRequest)[INTERNAL_LISTENER] ? 'internal' : 'public';
}

/** The internal server of each Fastify instance, made before it starts (hooks can't be added after). */
const INTERNAL_SERVERS = new WeakMap<FastifyInstance, Server>();

/**
 * The internal listener: a second `http.Server` feeding the same Fastify
 * instance (same routes, hooks, error handling and shutdown 503s), so there
 * is one application and one set of routes; its requests are marked, and
 * the service-key guard (and the dashboard's gate) decide per route which
 * listener may serve it. Made here, before the application starts; the
 * drain (connection-drain.ts) closes it together with the public one.
 */
export function attachInternalListener(fastify: FastifyInstance, drain: ConnectionDrain): void {
  const server = createServer((request, response) => {
    (request as MarkedRequest)[INTERNAL_LISTENER] = true;
    fastify.routing(request, response);
  });
  INTERNAL_SERVERS.set(fastify, server);
  drain.track(server);
}

/** Binds the internal listener (after the public one, whose server settings it copies). */
export async function listenInternal(
  fastify: FastifyInstance,
  at: { host: string; port: number },
): Promise<AddressInfo> {
  const server = INTERNAL_SERVERS.get(fastify);
  if (!server) throw new Error('attachInternalListener was not called before the app started');
  copyServerSettings(fastify.server, server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/** Both listeners (the internal one only when configured); the addresses they are bound to. */
export async function startListeners(
  app: NestFastifyApplication,
  http: { host: string; port: number; internal?: { host: string; port: number } },
): Promise<{ public: AddressInfo; internal?: AddressInfo }> {
  await app.listen({ port: http.port, host: http.host });
  const publicAddress = app.getHttpServer().address() as AddressInfo;
  if (!http.internal) return { public: publicAddress };
  const internal = await listenInternal(app.getHttpAdapter().getInstance(), http.internal);
  return { public: publicAddress, internal };
}

function copyServerSettings(from: Server, to: Server): void {
  to.keepAliveTimeout = from.keepAliveTimeout;
  to.requestTimeout = from.requestTimeout;
  to.headersTimeout = from.headersTimeout;
  to.timeout = from.timeout;
  to.maxRequestsPerSocket = from.maxRequestsPerSocket;
  // Fastify's clientError handler (malformed requests answered with the envelope, 431s).
  for (const listener of from.listeners('clientError')) {
    to.on('clientError', listener as (...args: unknown[]) => void);
  }
}
