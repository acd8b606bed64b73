import { createHash } from 'node:crypto';
import type { AuditRepository } from './audit.repository.js';

export type ChainVerdict =
  | { ok: true; batches: number; anchor?: string }
  | { ok: false; batches: number; seq: bigint; reason: string };

const PAGE = 1_000;

/**
 * Recomputes the hash chain from the rows as stored now: each batch's
 * digest (same SQL as the append), its hash = sha256(prev_hash || digest),
 * and its prev_hash = the previous batch's hash. The first batch left after
 * retention is the anchor: its prev_hash is taken as given.
 */
export async function verifyAuditChain(repository: AuditRepository): Promise<ChainVerdict> {
  let previous: { seq: bigint; hash: Buffer } | undefined;
  let anchor: string | undefined;
  let batches = 0;
  for (let after = 0n; ;) {
    const page = await repository.batchesForVerify(after, PAGE);
    for (const batch of page) {
      const bad = (reason: string): ChainVerdict => ({
        ok: false,
        batches,
        seq: batch.seq,
        reason,
      });
      if (previous === undefined) anchor = batch.prevHash.toString('hex');
      else if (batch.seq !== previous.seq + 1n)
        return bad(`batches ${previous.seq + 1n}…${batch.seq - 1n} are missing`);
      else if (!batch.prevHash.equals(previous.hash))
        return bad('its prev_hash is not the previous batch’s hash');
      if (batch.storedRows !== batch.rowCount || !batch.digest)
        return bad(`it holds ${batch.storedRows} rows, ${batch.rowCount} were written`);
      const expected = createHash('sha256').update(batch.prevHash).update(batch.digest).digest();
      if (!expected.equals(batch.hash)) return bad('its rows do not match its hash (modified)');
      previous = { seq: batch.seq, hash: batch.hash };
      batches += 1;
    }
    if (page.length < PAGE) return { ok: true, batches, ...(anchor && { anchor }) };
    after = page.at(-1)!.seq;
  }
}
