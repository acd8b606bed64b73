import { Global, Module } from '@nestjs/common';
import { AuditAppender } from './audit-appender.js';
import { AuditLog } from './audit-log.js';
import { AuditRetentionSweep } from './audit-retention.sweep.js';
import { AuditTrail } from './audit-trail.service.js';
import { AuditRepository } from './audit.repository.js';
import { TokenFingerprint } from './token-fingerprint.js';

@Global()
@Module({
  providers: [
    AuditAppender,
    AuditRepository,
    AuditLog,
    AuditTrail,
    TokenFingerprint,
    AuditRetentionSweep,
  ],
  exports: [AuditLog, AuditTrail, TokenFingerprint, AuditRetentionSweep],
})
export class AuditModule {}
