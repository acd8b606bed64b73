import type { FastifyInstance } from 'fastify';

const STATUS_ROUTE = /^\/v1\/connect-sessions\/[^/?]+(\?|$)/;

/**
 * CORS for one route only: the connect snippet in the app's page polls its
 * session's status across origins. Only the origins of ALLOWED_RETURN_URLS
 * (the app's own pages) are answered, and no cookie is ever involved.
 */
export function registerConnectSessionCors(fastify: FastifyInstance, origins: string[]): void {
  const allowed = new Set(origins);
  // Callback style, as every hook run on every request: no promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (!origin || !allowed.has(origin) || !STATUS_ROUTE.test(request.url)) return done();
    reply.header('access-control-allow-origin', origin).header('vary', 'origin');
    if (request.method !== 'OPTIONS') return done();
    // The preflight is answered here (and `done` not called): no route, no guard, nothing else runs.
    void reply
      .header('access-control-allow-methods', 'GET')
      .header('access-control-allow-headers', 'authorization')
      .header('access-control-max-age', '600')
      .status(204)
      .send();
  });
}
