import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../common/random.js';
import { Public, ServedOn } from '../auth/auth.decorators.js';
import { renderConnectResultPage } from '../common/http/result-page.js';
import { AppConfig } from '../config/app-config.js';
import { ConnectFlowService } from './connect-flow.service.js';
import { resultRedirectUrl } from './connect-result.js';
import { CALLBACK_PATH_PREFIX } from './connect-urls.js';
import { OAuthCallbackService } from './oauth-callback.service.js';

/** The browser side of the connect flow: no service key, the session token and cookie stand in. */
// The browser's and the provider's half of the flow: never on the internal listener.
@ServedOn('public')
@Controller('v1')
export class ConnectController {
  private readonly cookiePath: string;
  private readonly allowedOrigins: string[];

  constructor(
    config: AppConfig,
    private readonly flows: ConnectFlowService,
    private readonly callbacks: OAuthCallbackService,
  ) {
    this.cookiePath = `${new URL(config.http.publicUrl).pathname.replace(/\/$/, '')}${CALLBACK_PATH_PREFIX}`;
    this.allowedOrigins = [...new Set(config.allowedReturnUrls.map((url) => url.origin))];
  }

  @Get('connect')
  @Public()
  async start(
    @Query('session') session: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const flow = await this.flows.start(typeof session === 'string' ? session : undefined);
    reply.setCookie(flow.cookie.name, flow.cookie.value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: flow.cookie.secure,
      path: this.cookiePath,
      maxAge: flow.cookie.maxAgeSeconds,
    });
    noStore(reply).redirect(flow.authorizationUrl.href, 302);
  }

  @Get('oauth/callback/:integrationKey')
  @Public()
  async callback(
    @Param('integrationKey') integrationKey: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const queryStart = request.url.indexOf('?');
    const { outcome, clearCookie } = await this.callbacks.complete({
      integrationKey,
      rawQuery: queryStart >= 0 ? request.url.slice(queryStart + 1) : '',
      cookies: request.cookies,
      requestId: request.id,
    });
    if (clearCookie) reply.clearCookie(clearCookie, { path: this.cookiePath });
    noStore(reply);
    if (outcome.returnTo) {
      reply.redirect(resultRedirectUrl(outcome.returnTo, outcome), 303);
      return;
    }
    const nonce = randomToken(16);
    reply
      .status(outcome.error ? 400 : 200)
      .header(
        'content-security-policy',
        `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'`,
      )
      .type('text/html; charset=utf-8')
      .send(
        renderConnectResultPage(
          {
            type: 'token-broker:connect-result',
            connectionId: outcome.connectionId,
            finalizeToken: outcome.finalize?.token,
            connectSessionId: outcome.finalize?.sessionId,
            error: outcome.error,
          },
          this.allowedOrigins,
          nonce,
        ),
      );
  }
}

/** Flow responses carry one-time values: never cache them, never leak them in a Referer. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
}
