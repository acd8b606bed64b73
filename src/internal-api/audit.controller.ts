import { Controller, Get } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail.service.js';
import { RequireService } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { ValidQuery } from '../common/validation/zod.pipe.js';
import { type AuditQueryDto, auditQuerySchema } from './audit.dto.js';
import { auditRecordView } from './audit.view.js';
import type { AuditPageDto } from './responses.schema.js';

@Controller('v1/audit')
export class AuditController {
  constructor(private readonly trail: AuditTrail) {}

  /** Who read or changed what, oldest first; never a token (a keyed fingerprint at most). */
  @Get()
  @RequireService('manage')
  async list(
    @CurrentCaller() caller: Caller,
    @ValidQuery(auditQuerySchema) query: AuditQueryDto,
  ): Promise<AuditPageDto> {
    const rows = await this.trail.page(caller, {
      connectionId: query.connectionId,
      afterId: query.after === undefined ? undefined : BigInt(query.after),
      limit: query.limit,
    });
    const last = rows.at(-1);
    return {
      data: rows.map(auditRecordView),
      nextCursor: last && rows.length === query.limit ? last.id.toString() : null,
    };
  }
}
