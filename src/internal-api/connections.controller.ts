import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { RequireService } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { ValidQuery, ZodPipe } from '../common/validation/zod.pipe.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection } from '../connections/connection.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { RejectedTokenService } from '../refresh/rejected-token.service.js';
import { TokenService } from '../refresh/token.service.js';
import { connectionView } from './connection.view.js';
import {
  type ListConnectionsQueryDto,
  listConnectionsQuerySchema,
  type RejectedTokenBodyDto,
  rejectedTokenBodySchema,
  type TokenQueryDto,
  tokenQuerySchema,
} from './connections.dto.js';
import { decodeCursor, encodeCursor, type KeysetPosition } from './keyset-cursor.js';
import { QuietOnSuccess } from '../common/http/quiet-on-success.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

@Controller('v1/connections')
export class ConnectionsController {
  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionsService,
    private readonly tokens: TokenService,
    private readonly integrations: IntegrationRegistry,
    private readonly rejectedTokens: RejectedTokenService,
  ) {}

  @Get()
  @RequireService('manage')
  async list(
    @CurrentCaller() caller: Caller,
    @ValidQuery(listConnectionsQuerySchema) query: ListConnectionsQueryDto,
  ) {
    const page = await this.connections.list(caller, {
      tenantId: query.tenantId,
      integration: query.integration,
      status: query.status,
      after: query.cursor ? toCreatedPosition(decodeCursor(query.cursor)) : undefined,
      limit: query.limit,
    });
    const last = page.at(-1);
    return {
      data: page.map((connection) => this.view(connection)),
      nextCursor:
        last && page.length === query.limit
          ? encodeCursor({ at: last.createdAt, id: last.id })
          : null,
    };
  }

  @Get(':id')
  @RequireService('manage')
  async get(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.view(await this.connections.get(caller, id));
  }

  // The answer is JSON text already (TokenAnswers), sent as it is.
  @Get(':id/token')
  @QuietOnSuccess()
  @RequireService('token')
  @Header('cache-control', 'no-store')
  @Header('content-type', JSON_CONTENT_TYPE)
  async token(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidQuery(tokenQuerySchema) query: TokenQueryDto,
  ) {
    const minValidity = query.minValiditySeconds ?? this.config.tokens.defaultMinValiditySeconds;
    return (await this.tokens.issue(caller, id, minValidity)).answer;
  }

  /** The provider refused a token this caller got: a replacement, one refresh per rejected token. */
  @Post(':id/token/rejected')
  @HttpCode(200)
  @RequireService('token')
  @Header('cache-control', 'no-store')
  @Header('content-type', JSON_CONTENT_TYPE)
  async rejected(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body(new ZodPipe(rejectedTokenBodySchema)) body: RejectedTokenBodyDto,
  ) {
    return (await this.rejectedTokens.replace(caller, id, body.accessToken)).answer;
  }

  @Post(':id/refresh')
  @HttpCode(200)
  @RequireService('token')
  async refresh(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.view(await this.tokens.forceRefresh(caller, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireService('manage')
  async disconnect(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    await this.connections.disconnect(caller, id);
  }

  private view(connection: Connection) {
    return connectionView(
      connection,
      this.config.tokens,
      this.integrations.get(connection.integrationKey),
    );
  }
}

function toCreatedPosition({ at, id }: KeysetPosition) {
  return { createdAt: at, id };
}
