import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuditLog } from '../audit/audit-log.js';
import { AppError, NotFoundError, PermissionError } from '../common/errors/app-error.js';
import { type Listener, listenerOf } from '../common/http/listeners.js';
import { AppConfig } from '../config/app-config.js';
import { ACCESS_METADATA, type AccessRule, LISTENER_METADATA } from './auth.decorators.js';
import { type Caller, canPerform } from './caller.js';
import { PresentedKeys } from './presented-keys.js';
import { listenersOf } from './route-listeners.js';
import { ServiceKeysService } from './service-keys.service.js';

export type AuthenticatedRequest = FastifyRequest & {
  caller?: Caller;
  connectSessionToken?: string;
};

interface RouteAccess {
  controller: object;
  rule: AccessRule | undefined;
  pinned: Listener | undefined;
}

/** Connect session tokens carry their own prefix (never a service key's). */
export const CONNECT_SESSION_TOKEN_PREFIX = 'tbcs_';

/**
 * Default deny: every route must declare its access rule. A route that
 * forgot is refused, never silently public (fails closed). With an
 * internal listener (INTERNAL_PORT), a route on the listener that does not
 * serve it is a 404 before any key is looked at (`listenersOf`).
 */
@Injectable()
export class ServiceKeyGuard implements CanActivate {
  private readonly presented = new PresentedKeys();
  private readonly routes = new WeakMap<object, RouteAccess>();

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ServiceKeysService,
    private readonly config: AppConfig,
    private readonly audit: AuditLog,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { rule, pinned } = this.accessOf(context);
    if (!rule)
      throw new AppError('forbidden', 'route_not_guarded', 'This route declares no access rule');
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const split = this.config.http.internal !== undefined;
    const listener = listenerOf(request.raw);
    if (split && !listenersOf(rule, pinned).includes(listener)) throw notOnThisListener(request);
    if (rule.type === 'public') return true;
    const { token, digest } = this.presented.of(request.raw.socket, request.headers.authorization);
    if (rule.orConnectSessionToken && token?.startsWith(CONNECT_SESSION_TOKEN_PREFIX)) {
      request.connectSessionToken = token;
      return true;
    }
    // With two listeners, service keys are taken on the internal one only.
    if (split && listener !== 'internal') throw notOnThisListener(request);
    const caller = token
      ? await this.keys.authenticateDigest(digest, request.ip)
      : await this.keys.authenticate(undefined);
    if (rule.action && !canPerform(caller, rule.action)) {
      this.auditRefusal(request, caller, rule.action);
      throw new PermissionError(
        'action_not_granted',
        `This service key may not perform "${rule.action}"`,
      );
    }
    request.caller = { ...caller, requestId: request.id };
    return true;
  }

  /**
   * The route's access rule and pinned listener, read from its metadata
   * once: it is fixed when the application starts, and reading it on every
   * request was a measurable part of a token read.
   */
  private accessOf(context: ExecutionContext): RouteAccess {
    const handler = context.getHandler();
    const controller = context.getClass();
    const known = this.routes.get(handler);
    if (known?.controller === controller) return known;
    const targets = [handler, controller];
    const access = {
      controller,
      rule: this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, targets),
      pinned: this.reflector.getAllAndOverride<Listener | undefined>(LISTENER_METADATA, targets),
    };
    this.routes.set(handler, access);
    return access;
  }

  /** A valid key asking for an action it lacks is audited (an invalid key is not: anyone can send one). */
  private auditRefusal(request: FastifyRequest, caller: Caller, action: string): void {
    const params = request.params as { id?: unknown; connectionId?: unknown } | undefined;
    const connectionId = params?.id ?? params?.connectionId;
    this.audit.recordInBackground({
      at: new Date(),
      action: 'request.refused',
      serviceKeyId: caller.keyId,
      requestId: request.id,
      // The connection's tenant is not looked up here; a key of one tenant acts for that one.
      ...(caller.tenants.length === 1 && { tenantId: caller.tenants[0] }),
      ...(typeof connectionId === 'string' && { connectionId }),
      detail: {
        code: 'action_not_granted',
        action,
        route: request.routeOptions.url ?? null,
        method: request.method,
      },
    });
  }
}

/** The answer for a route this listener does not serve: the same as a route that does not exist. */
function notOnThisListener(request: FastifyRequest): NotFoundError {
  return new NotFoundError(
    'route_not_found',
    `No route ${request.method} ${request.url.split('?')[0]}`,
  );
}
