import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public, ServedOn } from '../auth/auth.decorators.js';
import { canPerform } from '../auth/caller.js';
import { ServiceKeysService } from '../auth/service-keys.service.js';
import { AppConfig } from '../config/app-config.js';
import { ADMIN_COOKIE, ADMIN_QUEUES_PATH } from './admin-gate.js';
import { adminLoginPage } from './admin-login.page.js';
import { ADMIN_SESSION_TTL_SECONDS, AdminSessionsStore } from './admin-sessions.store.js';

/** Only the dashboard may be a destination after sign-in (no open redirect). */
const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/admin\/queues(\/[^\s]*)?$/.test(next.split('?')[0]!)
    ? next
    : ADMIN_QUEUES_PATH;

/** Browser sign-in for the queue dashboard with a `manage` service key (an operator's page: internal listener). */
@ServedOn('internal')
@Controller('admin')
export class AdminSessionController {
  private readonly secureCookie: boolean;

  constructor(
    config: AppConfig,
    private readonly keys: ServiceKeysService,
    private readonly sessions: AdminSessionsStore,
  ) {
    this.secureCookie = config.http.publicUrl.startsWith('https://');
  }

  @Get('login')
  @Public()
  page(
    @Query('next') next: unknown,
    @Query('notice') notice: unknown,
    @Res() reply: FastifyReply,
  ): void {
    void page(
      reply,
      adminLoginPage(safeNext(next), typeof notice === 'string' ? notice : undefined),
    );
  }

  @Post('login')
  @Public()
  async login(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const form = (body ?? {}) as { serviceKey?: unknown; next?: unknown };
    const next = safeNext(form.next);
    const presented = typeof form.serviceKey === 'string' ? form.serviceKey.trim() : '';
    const caller = await this.keys.authenticate(presented, request.ip).catch(() => undefined);
    if (!caller || !canPerform(caller, 'manage')) {
      const notice = caller ? 'not_manage' : 'invalid_key';
      return void reply.redirect(
        `/admin/login?notice=${notice}&next=${encodeURIComponent(next)}`,
        303,
      );
    }
    const token = await this.sessions.open(this.keys.hashOf(presented));
    void reply
      .setCookie(ADMIN_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: this.secureCookie,
        path: '/admin',
        maxAge: ADMIN_SESSION_TTL_SECONDS,
      })
      .header('cache-control', 'no-store')
      .redirect(next, 303);
  }

  @Post('logout')
  @Public()
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const token = request.cookies[ADMIN_COOKIE];
    if (token) await this.sessions.close(token);
    void reply
      .clearCookie(ADMIN_COOKIE, { path: '/admin' })
      .redirect('/admin/login?notice=signed_out', 303);
  }
}

function page(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    )
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}
