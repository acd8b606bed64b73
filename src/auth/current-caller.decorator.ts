import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Caller } from './caller.js';
import type { AuthenticatedRequest } from './service-key.guard.js';

/** The caller the guard authenticated; only on `@RequireService()` routes. */
export const CurrentCaller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Caller => {
    const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
    if (!caller) throw new Error('CurrentCaller used on a route without @RequireService()');
    return caller;
  },
);
