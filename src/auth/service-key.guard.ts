import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError, PermissionError } from '../common/errors/app-error.js';
import { ACCESS_METADATA, type AccessRule } from './auth.decorators.js';
import { type Caller, canPerform } from './caller.js';
import { ServiceKeysService } from './service-keys.service.js';

export type AuthenticatedRequest = FastifyRequest & {
  caller?: Caller;
  connectSessionToken?: string;
};

/** Connect session tokens carry their own prefix (never a service key's). */
export const CONNECT_SESSION_TOKEN_PREFIX = 'tbcs_';

/**
 * Default deny: every route must declare its access rule. A route that
 * forgot is refused, never silently public (fails closed).
 */
@Injectable()
export class ServiceKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ServiceKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!rule)
      throw new AppError('forbidden', 'route_not_guarded', 'This route declares no access rule');
    if (rule.type === 'public') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearer(request.headers.authorization);
    if (rule.orConnectSessionToken && token?.startsWith(CONNECT_SESSION_TOKEN_PREFIX)) {
      request.connectSessionToken = token;
      return true;
    }
    const caller = await this.keys.authenticate(token);
    if (rule.action && !canPerform(caller, rule.action)) {
      throw new PermissionError(
        'action_not_granted',
        `This service key may not perform "${rule.action}"`,
      );
    }
    request.caller = caller;
    return true;
  }
}

function bearer(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}
