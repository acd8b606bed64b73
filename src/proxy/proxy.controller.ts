import { All, Controller, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireService } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { ProxyStreamedBody } from './proxy-body.js';
import { ProxyService } from './proxy.service.js';

@Controller('v1/proxy/:connectionId')
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  /** Any method, any path below the connection's API base URL (the body streams both ways). */
  @All('*')
  @ProxyStreamedBody()
  @RequireService('proxy')
  async forward(
    @CurrentCaller() caller: Caller,
    @Param('connectionId') connectionId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const gone = new AbortController();
    // The caller hung up before the answer was sent: stop the provider request too.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const answer = await this.proxy.forward(caller, connectionId, {
      method: request.method,
      raw: request.raw,
      signal: gone.signal,
    });
    await reply.status(answer.status).headers(answer.headers).send(answer.body);
  }
}
