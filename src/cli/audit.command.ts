import { type ChainVerdict, verifyAuditChain } from '../audit/audit-chain.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import type { CliIo } from './keys.command.js';
import { UsageError } from './keys.command.js';

export const AUDIT_USAGE = `usage: npm run cli -- audit verify

  audit verify   recompute the audit trail's hash chain; exit 1 naming the
                 first batch that does not verify (a row modified, removed
                 or added, a batch missing, or a column paging finds rows
                 by that no longer matches them). After retention the chain
                 is checked from the oldest batch left, anchored at its
                 prev_hash; the output names that batch`;

export function parseAuditCommand(args: string[]): { kind: 'verify' } {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw new UsageError(`audit: unknown command "${sub ?? ''}" (try --help)`);
  if (rest.length) throw new UsageError(`audit verify: Unexpected argument '${rest[0]}'`);
  return { kind: 'verify' };
}

export async function runAuditVerify(repository: AuditRepository, io: CliIo): Promise<number> {
  const verdict = await verifyAuditChain(repository);
  if (verdict.ok) {
    io.out(`audit chain ok: ${verdict.batches} batches${checkedRange(verdict)}`);
    return 0;
  }
  io.err(
    `audit chain broken at batch ${verdict.seq} (after ${verdict.batches} good): ${verdict.reason}`,
  );
  return 1;
}

function checkedRange(verdict: Extract<ChainVerdict, { ok: true }>): string {
  if (verdict.fromSeq === undefined) return '';
  const range = `, seq ${verdict.fromSeq}…${verdict.toSeq}`;
  if (!verdict.anchor) return `${range} (from the start)`;
  return (
    `${range} (checked from seq ${verdict.fromSeq}: batches before it were purged by retention;` +
    ` anchored at its prev_hash ${verdict.anchor.slice(0, 16)}…)`
  );
}
