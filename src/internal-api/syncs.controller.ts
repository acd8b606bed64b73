import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { RequireService } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { ValidQuery, ZodPipe } from '../common/validation/zod.pipe.js';
import { SyncService } from '../sync/sync.service.js';
import { decodeCursor, encodeCursor, type KeysetPosition } from './keyset-cursor.js';
import type { SyncRunDto } from './responses.schema.js';
import { recordView, syncRunView } from './sync.view.js';
import {
  type ListSyncsQuery,
  listSyncsQuerySchema,
  modelParamSchema,
  type RecordsQuery,
  recordsQuerySchema,
  type TriggerSyncBody,
  triggerSyncSchema,
} from './syncs.dto.js';

@Controller('v1/connections/:id')
export class SyncsController {
  constructor(private readonly syncs: SyncService) {}

  @Post('syncs')
  @HttpCode(202)
  @RequireService('sync')
  async trigger(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body(new ZodPipe(triggerSyncSchema.optional())) body: TriggerSyncBody | undefined,
  ) {
    return { syncRunIds: await this.syncs.trigger(caller, id, body ?? {}) };
  }

  @Get('syncs')
  @RequireService('sync')
  async list(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidQuery(listSyncsQuerySchema) query: ListSyncsQuery,
  ) {
    return { data: (await this.syncs.listRuns(caller, id, query.limit)).map(syncRunView) };
  }

  /** Stops a run within one page (status `cancelled`); 409 sync_run_finished when it already ended. */
  @Post('syncs/:runId/cancel')
  @HttpCode(200)
  @RequireService('sync')
  async cancel(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Param('runId') runId: string,
  ): Promise<SyncRunDto> {
    return syncRunView(await this.syncs.cancel(caller, id, runId));
  }

  @Get('records/:model')
  @RequireService('sync')
  async records(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Param('model', new ZodPipe(modelParamSchema, 'params')) model: string,
    @ValidQuery(recordsQuerySchema) query: RecordsQuery,
  ) {
    const page = await this.syncs.listRecords(caller, id, model, {
      after: query.cursor ? toRecordPosition(decodeCursor(query.cursor)) : undefined,
      modifiedAfter: query.modifiedAfter ? new Date(query.modifiedAfter) : undefined,
      limit: query.limit,
    });
    const last = page.at(-1);
    return {
      data: page.map(recordView),
      nextCursor:
        last && page.length === query.limit
          ? encodeCursor({ at: last.modifiedAt, id: last.externalId })
          : null,
    };
  }
}

function toRecordPosition({ at, id }: KeysetPosition) {
  return { modifiedAt: at, externalId: id };
}
