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
      firstEventId: BigInt(firstSeq + i),
      lastEventId: BigInt(firstSeq + i),
      events: {
        firstId: BigInt(firstSeq + i),
        lastId: BigInt(firstSeq + i),
        connectionsMatch: true,
        tenantsMatch: true,
      },
    });
    prev = hash;
  }
  return batches;
}

/** `head`: what audit_chain_head says; by default the newest batch. */
const repositoryOf = (
  batches: AuditBatchCheck[],
  head = batches.length
    ? { seq: batches.at(-1)!.seq, hash: batches.at(-1)!.hash }
    : { seq: 0n, hash: Buffer.alloc(32) },
) =>
  ({
    chainHead: () => Promise.resolve(head),
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

  it('catches the newest batches removed, or the last one replaced, against the chain head', async () => {
    const full = chain(1, 5);
    const head = { seq: 5n, hash: full[4]!.hash };
    expect(await verifyAuditChain(repositoryOf(full.slice(0, 3), head))).toMatchObject({
      ok: false,
      seq: 4n,
      reason: 'batches 4…5 are missing (the chain head is at 5)',
    });
    // A last batch rebuilt consistently (its own digest and hash) still differs from the head.
    const digest = createHash('sha256').update('forged rows').digest();
    const forged: AuditBatchCheck = {
      ...full[4]!,
      digest,
      hash: createHash('sha256').update(full[3]!.hash).update(digest).digest(),
    };
    const rebuilt = [...full.slice(0, 4), forged];
    expect(await verifyAuditChain(repositoryOf(rebuilt, head))).toMatchObject({
      ok: false,
      seq: 5n,
      reason: 'its hash is not the one the chain head recorded',
    });
    // Batches appended after the check read the head are checked too, and fine.
    expect(
      await verifyAuditChain(repositoryOf(full, { seq: 3n, hash: full[2]!.hash })),
    ).toMatchObject({ ok: true, batches: 5 });
  });

  it('names a batch whose paging columns (outside the hash) disagree with its events', async () => {
    const cases: [Partial<AuditBatchCheck>, RegExp][] = [
      [{ firstEventId: 1n }, /first_event_id is 1, its lowest event id 2/],
      [{ lastEventId: 9n }, /last_event_id is 9, its highest event id 2/],
      [
        { events: { firstId: 2n, lastId: 2n, connectionsMatch: false, tenantsMatch: true } },
        /connection_ids/,
      ],
      [
        { events: { firstId: 2n, lastId: 2n, connectionsMatch: true, tenantsMatch: false } },
        /tenant_ids/,
      ],
    ];
    for (const [change, reason] of cases) {
      const batches = chain(1, 3);
      batches[1] = { ...batches[1]!, ...change };
      expect(await verifyAuditChain(repositoryOf(batches))).toMatchObject({
        ok: false,
        seq: 2n,
        reason: expect.stringMatching(reason),
      });
    }
  });

  it('passes an empty trail', async () => {
    expect(await verifyAuditChain(repositoryOf([]))).toEqual({ ok: true, batches: 0 });
  });
});
