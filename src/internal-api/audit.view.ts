import type { AuditRecord } from '../audit/audit-trail.service.js';
import type { AuditRecordDto } from './responses.schema.js';

/** The public shape of an audit row. */
export function auditRecordView(record: AuditRecord): AuditRecordDto {
  return {
    id: record.id.toString(),
    at: record.at.toISOString(),
    action: record.action,
    connectionId: record.connectionId ?? null,
    tenantId: record.tenantId ?? null,
    serviceKeyId: record.serviceKeyId ?? null,
    requestId: record.requestId ?? null,
    tokenFingerprint: record.tokenFingerprint ?? null,
    detail: record.detail ?? null,
    batch: record.batchSeq?.toString() ?? null,
  };
}
