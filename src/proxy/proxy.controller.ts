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
    let answer;
    try {
      answer = await this.proxy.forward(caller, connectionId, {
        method: request.method,
        raw: request.raw,
        signal: gone.signal,
      });
    } finally {
      closeIfUnread(request, reply);
    }
    try {
      await reply.status(answer.status).headers(answer.headers).send(answer.body);
    } catch (error) {
      // Not sent (a header Node refuses, the caller gone): free the provider
      // socket and the budget's concurrency slot now, not at the body timeout.
      answer.body?.destroy();
      throw error;
    }
  }
}

/**
 * Answered before the caller's body was read to its end (413, or a provider
 * that answered early): the rest of it would be read as the next request on
 * this connection, so the connection ends with the answer instead.
 */
function closeIfUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) reply.header('connection', 'close');
}
