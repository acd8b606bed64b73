import { Global, Module } from '@nestjs/common';
import { AuditLog } from './audit-log.js';
import { AuditRepository } from './audit.repository.js';
import { TokenFingerprint } from './token-fingerprint.js';

@Global()
@Module({
  providers: [AuditRepository, AuditLog, TokenFingerprint],
  exports: [AuditLog, TokenFingerprint],
})
export class AuditModule {}
