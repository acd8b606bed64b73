import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { NotFoundError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { buildOpenApiDocument } from './openapi.js';

/** Only these files of swagger-ui-dist are served, by name; no path from the request reaches the file system. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
};

/** The OpenAPI document, and Swagger UI to read it, served offline from the package. */
@Controller('docs')
export class DocsController {
  private readonly document: unknown;
  /** Absolute paths under PUBLIC_URL's path: the page works at /docs and /docs/ alike. */
  private readonly base: string;
  private readonly init: string;
  private readonly assetsDir = path.dirname(
    createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
  );

  constructor(config: AppConfig) {
    this.document = buildOpenApiDocument(config.http.publicUrl);
    this.base = `${new URL(config.http.publicUrl).pathname.replace(/\/$/, '')}/docs`;
    this.init = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(`${this.base}/openapi.json`)}, dom_id: '#docs' });`;
  }

  @Get()
  @Public()
  page(@Res() reply: FastifyReply): void {
    reply
      .header(
        'content-security-policy',
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
      )
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Token Broker API</title>' +
          `<link rel="stylesheet" href="${this.base}/assets/swagger-ui.css"></head><body><div id="docs"></div>` +
          `<script src="${this.base}/assets/swagger-ui-bundle.js"></script><script src="${this.base}/assets/init.js"></script></body></html>`,
      );
  }

  @Get('openapi.json')
  @Public()
  openApi(): unknown {
    return this.document;
  }

  @Get('assets/:file')
  @Public()
  @Header('cache-control', 'public, max-age=86400')
  async asset(@Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    if (file === 'init.js') {
      reply.type('application/javascript; charset=utf-8').send(this.init);
      return;
    }
    const type = ASSETS[file];
    if (!type) throw new NotFoundError('asset_not_found', 'No such asset');
    reply.type(type).send(await readFile(path.join(this.assetsDir, file)));
  }
}
