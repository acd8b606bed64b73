import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { type AuditRecord, AuditRepository } from './audit.repository.js';

export type { AuditRecord } from './audit.repository.js';

export interface AuditQuery {
  connectionId?: string;
  /** The last id of the previous page. */
  afterId?: bigint;
  limit: number;
}

/**
 * Reading the audit trail (`GET /v1/audit`): a caller sees the rows of its
 * own tenants only (a key for every tenant sees every row, including those
 * of no tenant, such as refused keys), oldest first, in keyset pages.
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly repository: AuditRepository) {}

  page(caller: Caller, query: AuditQuery): Promise<AuditRecord[]> {
    return this.repository.page({
      connectionId: query.connectionId,
      tenants: caller.tenants.length ? caller.tenants : undefined,
      afterId: query.afterId,
      limit: query.limit,
    });
  }
}
