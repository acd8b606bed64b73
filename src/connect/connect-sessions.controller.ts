import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { RequireService } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { ZodPipe } from '../common/validation/zod.pipe.js';
import {
  type CreateConnectSessionBody,
  createConnectSessionSchema,
  type FinalizeConnectSessionBody,
  finalizeConnectSessionSchema,
} from './connect.dto.js';
import { FinalizeService } from './finalize.service.js';
import { ConnectSessionsService } from './connect-sessions.service.js';

@Controller('v1/connect-sessions')
export class ConnectSessionsController {
  constructor(
    private readonly sessions: ConnectSessionsService,
    private readonly finalizer: FinalizeService,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireService('connect')
  async create(
    @CurrentCaller() caller: Caller,
    @Body(new ZodPipe(createConnectSessionSchema)) body: CreateConnectSessionBody,
  ) {
    const session = await this.sessions.create(caller, body);
    return {
      id: session.id,
      token: session.token,
      connectUrl: session.connectUrl,
      expiresAt: session.expiresAt.toISOString(),
    };
  }

  /** requireFinalize integrations: the app's backend confirms the end user (SPEC "HTTP contract"). */
  @Post(':id/finalize')
  @HttpCode(200)
  @RequireService('connect')
  async finalize(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body(new ZodPipe(finalizeConnectSessionSchema)) body: FinalizeConnectSessionBody,
  ) {
    const { connectionId } = await this.finalizer.finalize(caller, id, body);
    return { connectionId, status: 'active' };
  }
}
