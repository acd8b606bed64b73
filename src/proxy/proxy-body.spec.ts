import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { outgoingBody } from './proxy-body.js';

function chunkedRequest(bytes: number): IncomingMessage {
  const stream = Readable.from(
    Array.from({ length: Math.ceil(bytes / 1024) }, () => Buffer.alloc(1024, 120)),
  );
  return Object.assign(stream, { headers: { 'transfer-encoding': 'chunked' } }) as never;
}

async function drain(stream: Readable): Promise<number> {
  let size = 0;
  for await (const chunk of stream) size += (chunk as Buffer).byteLength;
  return size;
}

describe('the proxied request body', () => {
  it('keeps a small replayable body in memory', async () => {
    const body = await outgoingBody(chunkedRequest(4 * 1024), {
      wantReplay: true,
      replayBytes: 1024 * 1024,
      maxBytes: 10 * 1024 * 1024,
    });
    expect(body).toMatchObject({ kind: 'buffered' });
  });

  it('holds a chunked replayable body to the limit when the limit is below the replay buffer', async () => {
    const body = await outgoingBody(chunkedRequest(128 * 1024), {
      wantReplay: true,
      replayBytes: 1024 * 1024,
      maxBytes: 64 * 1024,
    });
    expect(body.kind).toBe('streamed');
    const stream = (body as { stream: Readable }).stream;
    await expect(drain(stream)).rejects.toMatchObject({ statusCode: 413 });
  });
});
