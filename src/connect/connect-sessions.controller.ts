import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { RequireService, RequireServiceOrConnectSession } from '../auth/auth.decorators.js';
import type { AuthenticatedRequest } from '../auth/service-key.guard.js';
import type { Caller } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { ZodPipe } from '../common/validation/zod.pipe.js';
import {
  type ConnectSessionCreatedDto,
  type ConnectSessionStatusDto,
  type CreateConnectSessionBody,
  type FinalizeResultDto,
  createConnectSessionSchema,
  type FinalizeConnectSessionBody,
  finalizeConnectSessionSchema,
} from './connect.dto.js';
import { ConnectSessionStatusService } from './connect-session-status.service.js';
import { FinalizeService } from './finalize.service.js';
import { ConnectSessionsService } from './connect-sessions.service.js';

@Controller('v1/connect-sessions')
export class ConnectSessionsController {
  constructor(
    private readonly sessions: ConnectSessionsService,
    private readonly finalizer: FinalizeService,
    private readonly statuses: ConnectSessionStatusService,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireService('connect')
  async create(
    @CurrentCaller() caller: Caller,
    @Body(new ZodPipe(createConnectSessionSchema)) body: CreateConnectSessionBody,
  ): Promise<ConnectSessionCreatedDto> {
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
  ): Promise<FinalizeResultDto> {
    const { connectionId } = await this.finalizer.finalize(caller, id, body);
    return { connectionId, status: 'active' };
  }

  /** The fallback for a popup whose opener was cut: the app's backend, or the browser with the session token. */
  @Get(':id')
  @RequireServiceOrConnectSession('connect')
  async status(
    @Req() request: AuthenticatedRequest,
    @Param('id') id: string,
  ): Promise<ConnectSessionStatusDto> {
    const reader = request.caller
      ? { caller: request.caller }
      : { sessionToken: request.connectSessionToken! };
    const view = await this.statuses.read(id, reader);
    return {
      id: view.id,
      integration: view.integration,
      tenantId: view.tenantId,
      expiresAt: view.expiresAt.toISOString(),
      ...view.result,
    };
  }
}
