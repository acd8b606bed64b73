import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public, ServedOn } from '../auth/auth.decorators.js';

// dist/connect and src/connect both sit two levels below the project root.
const SNIPPET = path.resolve(import.meta.dirname, '../../sdk/connect.js');

/** The frontend snippet (sdk/connect.js), importable cross-origin as an ES module. */
@ServedOn('public')
@Controller('sdk')
export class SdkController {
  private readonly source = readFileSync(SNIPPET, 'utf8');

  @Get('connect.js')
  @Public()
  snippet(@Res() reply: FastifyReply): void {
    // Module scripts are fetched in CORS mode; the file is public and holds no secret.
    void reply
      .header('access-control-allow-origin', '*')
      .header('cache-control', 'public, max-age=300')
      .type('text/javascript; charset=utf-8')
      .send(this.source);
  }
}
