import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { RequireService } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { ZodPipe } from '../common/validation/zod.pipe.js';
import { type CreateConnectSessionBody, createConnectSessionSchema } from './connect.dto.js';
import { ConnectSessionsService } from './connect-sessions.service.js';

@Controller('v1/connect-sessions')
export class ConnectSessionsController {
  constructor(private readonly sessions: ConnectSessionsService) {}

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
}
