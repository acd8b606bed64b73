import { Global, Module } from '@nestjs/common';
import { AuditLog } from './audit-log.js';
import { AuditRetentionSweep } from './audit-retention.sweep.js';
import { AuditRepository } from './audit.repository.js';
import { TokenFingerprint } from './token-fingerprint.js';

@Global()
@Module({
  providers: [AuditRepository, AuditLog, TokenFingerprint, AuditRetentionSweep],
  exports: [AuditLog, TokenFingerprint, AuditRetentionSweep],
})
export class AuditModule {}
