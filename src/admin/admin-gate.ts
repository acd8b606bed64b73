import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { canPerform } from '../auth/caller.js';
import type { ServiceKeysService } from '../auth/service-keys.service.js';
import type { ErrorCode } from '../common/errors/error-codes.js';
import { errorEnvelope } from '../common/errors/error-envelope.js';
import { listenerOf } from '../common/http/listeners.js';
import type { AdminSessionsStore } from './admin-sessions.store.js';

export const ADMIN_QUEUES_PATH = '/admin/queues';
export const ADMIN_COOKIE = 'tb_admin';

/**
 * The dashboard is closed unless the request carries a `manage` service key:
 * as a bearer header (scripts) or through a session cookie made at
 * /admin/login (browsers, which cannot send a header). Bull Board's routes
 * are a Fastify plugin, outside Nest's guard: this hook is registered inside
 * that plugin's scope, so it sees every one of its routes however the URL is
 * spelled, and it fails closed on any error.
 */
export function adminGate(deps: {
  keys: ServiceKeysService;
  sessions: AdminSessionsStore;
  /** With an internal listener (INTERNAL_PORT) the dashboard answers only there. */
  internalOnly: boolean;
}): onRequestAsyncHookHandler {
  return async (request, reply) => {
    if (deps.internalOnly && listenerOf(request.raw) !== 'internal') {
      return reply
        .status(404)
        .header('cache-control', 'no-store')
        .send(errorEnvelope('route_not_found', 'No such route', request.id));
    }
    const verdict = await admit(request, deps).catch(() => 'unauthenticated' as const);
    if (verdict === 'ok') return;
    return refuse(request, reply, verdict);
  };
}

async function admit(
  request: FastifyRequest,
  { keys, sessions }: { keys: ServiceKeysService; sessions: AdminSessionsStore },
): Promise<'ok' | 'unauthenticated' | 'forbidden'> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  const cookie = request.cookies[ADMIN_COOKIE];
  // A bearer is checked like any presented key (format first, failures counted per address).
  const hash = bearer ? undefined : cookie ? await sessions.serviceKeyHash(cookie) : undefined;
  if (!bearer && !hash) return 'unauthenticated';
  // Checked on every request: a revoked key closes its sessions within a second (broadcast).
  const caller = bearer
    ? await keys.authenticate(bearer, request.ip)
    : await keys.authenticateHash(hash!);
  return canPerform(caller, 'manage') ? 'ok' : 'forbidden';
}

function refuse(
  request: FastifyRequest,
  reply: FastifyReply,
  verdict: 'unauthenticated' | 'forbidden',
): FastifyReply {
  const wantsPage = request.method === 'GET' && /text\/html/.test(request.headers.accept ?? '');
  if (wantsPage && verdict === 'unauthenticated') {
    const next = encodeURIComponent(request.url);
    return reply.redirect(`/admin/login?next=${next}`, 303);
  }
  const [status, code, message]: [number, ErrorCode, string] =
    verdict === 'forbidden'
      ? [403, 'action_not_granted', 'The queue dashboard needs a service key with "manage"']
      : [401, 'admin_login_required', 'Sign in at /admin/login with a "manage" service key'];
  return reply
    .status(status)
    .header('cache-control', 'no-store')
    .send(errorEnvelope(code, message, request.id));
}
