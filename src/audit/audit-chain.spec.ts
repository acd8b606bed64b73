import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { verifyAuditChain } from './audit-chain.js';
import type { AuditBatchCheck, AuditRepository } from './audit.repository.js';

/** A chain of `count` batches from `prevHash`, numbered from `firstSeq`, as the append writes it. */
function chain(firstSeq: number, count: number, prevHash = Buffer.alloc(32)): AuditBatchCheck[] {
  const batches: AuditBatchCheck[] = [];
  let prev = prevHash;
  for (let i = 0; i < count; i += 1) {
    const digest = createHash('sha256')
      .update(`rows of ${firstSeq + i}`)
      .digest();
    const hash = createHash('sha256').update(prev).update(digest).digest();
    batches.push({
      seq: BigInt(firstSeq + i),
      prevHash: prev,
      hash,
      rowCount: 1,
      storedRows: 1,
      digest,
    });
    prev = hash;
  }
  return batches;
}

const repositoryOf = (batches: AuditBatchCheck[]) =>
  ({
    batchesForVerify: (after: bigint, limit: number) =>
      Promise.resolve(batches.filter((b) => b.seq > after).slice(0, limit)),
  }) as unknown as AuditRepository;

describe('verifyAuditChain', () => {
  it('checks a chain from batch 1, which must chain to the genesis hash', async () => {
    expect(await verifyAuditChain(repositoryOf(chain(1, 3)))).toEqual({
      ok: true,
      batches: 3,
      fromSeq: 1n,
      toSeq: 3n,
    });
    const forged = chain(1, 2, Buffer.alloc(32, 1));
    expect(await verifyAuditChain(repositoryOf(forged))).toMatchObject({
      ok: false,
      seq: 1n,
      reason: expect.stringMatching(/genesis/),
    });
  });

  it('after retention, anchors at the first batch left and says from which seq', async () => {
    const purged = chain(1, 10).slice(4);
    expect(await verifyAuditChain(repositoryOf(purged))).toEqual({
      ok: true,
      batches: 6,
      fromSeq: 5n,
      toSeq: 10n,
      anchor: purged[0]!.prevHash.toString('hex'),
    });
  });

  it('names a gap inside the chain and a modified batch', async () => {
    const gap = chain(1, 6).filter((b) => b.seq !== 4n);
    expect(await verifyAuditChain(repositoryOf(gap))).toMatchObject({
      ok: false,
      seq: 5n,
      reason: 'batches 4…4 are missing',
    });
    const modified = chain(3, 3);
    modified[0] = { ...modified[0]!, digest: Buffer.alloc(32) };
    expect(await verifyAuditChain(repositoryOf(modified))).toMatchObject({ ok: false, seq: 3n });
  });

  it('passes an empty trail', async () => {
    expect(await verifyAuditChain(repositoryOf([]))).toEqual({ ok: true, batches: 0 });
  });
});
