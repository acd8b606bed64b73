import { createHash } from 'node:crypto';
import type { AuditBatchCheck, AuditRepository } from './audit.repository.js';

export type ChainVerdict =
  | {
      ok: true;
      batches: number;
      /** The first and last batch checked (absent when there are none). */
      fromSeq?: bigint;
      toSeq?: bigint;
      /** Hex prev_hash of the first batch, when retention purged the ones before it. */
      anchor?: string;
    }
  | { ok: false; batches: number; seq: bigint; reason: string };

const PAGE = 1_000;
/** The chain head the migration starts from: batch 1 chains to it. */
const GENESIS = Buffer.alloc(32);

/**
 * Recomputes the hash chain from the events as stored now: each batch's
 * digest (audit_batch_digest, as the append computes it), its hash =
 * sha256(prev_hash || digest), and its prev_hash = the previous batch's
 * hash. Retention removes whole batches from the front (audit_purge), so the
 * first batch left is the anchor: its prev_hash is taken as given, and the
 * verdict says from which seq the chain was checked. Batch 1 itself must
 * chain to the genesis hash. The chain must also reach the head as it was
 * when the check began (its seq and hash), so removing the newest batches is
 * caught too; batches appended while it runs are checked as well. A trail
 * with no batch at all passes (retention may have purged it whole). The
 * columns paging finds events by are checked against the events as well
 * (pagingColumnsProblem).
 */
export async function verifyAuditChain(repository: AuditRepository): Promise<ChainVerdict> {
  // Read first: appends only move it forward, so every batch up to it must be there.
  const head = await repository.chainHead();
  let previous: { seq: bigint; hash: Buffer } | undefined;
  let fromSeq: bigint | undefined;
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
      if (previous === undefined) {
        fromSeq = batch.seq;
        if (batch.seq > 1n) anchor = batch.prevHash.toString('hex');
        else if (!batch.prevHash.equals(GENESIS))
          return bad('the first batch does not chain to the genesis hash');
      } else if (batch.seq !== previous.seq + 1n)
        return bad(`batches ${previous.seq + 1n}…${batch.seq - 1n} are missing`);
      else if (!batch.prevHash.equals(previous.hash))
        return bad('its prev_hash is not the previous batch’s hash');
      if (batch.storedRows !== batch.rowCount || !batch.digest)
        return bad(`it holds ${batch.storedRows} rows, ${batch.rowCount} were written`);
      const expected = createHash('sha256').update(batch.prevHash).update(batch.digest).digest();
      if (!expected.equals(batch.hash)) return bad('its rows do not match its hash (modified)');
      const unindexed = pagingColumnsProblem(batch);
      if (unindexed) return bad(unindexed);
      if (batch.seq === head.seq && !batch.hash.equals(head.hash))
        return bad('its hash is not the one the chain head recorded');
      previous = { seq: batch.seq, hash: batch.hash };
      batches += 1;
    }
    if (page.length < PAGE) {
      // No batch at all is a chain purged whole by retention (or never written).
      if (previous && previous.seq < head.seq) {
        return {
          ok: false,
          batches,
          seq: previous.seq + 1n,
          reason: `batches ${previous.seq + 1n}…${head.seq} are missing (the chain head is at ${head.seq})`,
        };
      }
      return {
        ok: true,
        batches,
        ...(previous && { fromSeq, toSeq: previous.seq }),
        ...(anchor && { anchor }),
      };
    }
    after = page.at(-1)!.seq;
  }
}

/**
 * The columns `GET /v1/audit` finds a batch's events by are outside the
 * hash (the digest covers the events text, and first_event_id only for
 * format 2), so a change to one would hide events from paging while the
 * chain still verified: each must say what the batch's events say.
 */
function pagingColumnsProblem(batch: AuditBatchCheck): string | undefined {
  const { events } = batch;
  if (!events) return 'its events cannot be read';
  if (events.firstId !== batch.firstEventId)
    return `its first_event_id is ${batch.firstEventId}, its lowest event id ${events.firstId}`;
  if (events.lastId !== batch.lastEventId)
    return `its last_event_id is ${batch.lastEventId}, its highest event id ${events.lastId}`;
  if (!events.connectionsMatch) return 'its connection_ids are not the connections of its events';
  if (!events.tenantsMatch) return 'its tenant_ids are not the tenants of its events';
  return undefined;
}
