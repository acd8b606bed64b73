import { describe, expect, it } from '@jest/globals';
import { BATCH_FORMAT, decodeBatch, encodeEvent, LEGACY_FORMAT } from './audit-batch-format.js';
import type { AuditEntry } from './audit-entry.js';

const connectionId = '7f1c7a4e-2b1a-4d6e-9d7a-2f1c7a4e2b1a';

describe('audit batch lines', () => {
  it('never writes a NUL character (jsonb cannot hold one)', () => {
    const line = encodeEvent({
      action: 'request.refused',
      requestId: 'a\u0000b',
      at: new Date(0),
    });
    expect(line).not.toContain('\\u0000');
    expect(decodeBatch({ format: BATCH_FORMAT, firstEventId: 1n, events: line })[0]).toMatchObject({
      requestId: 'a\ufffdb',
    });
  });

  it('round-trips format 2 events, ids from first_event_id in line order', () => {
    const full: AuditEntry = {
      action: 'token.read',
      connectionId: connectionId.toUpperCase(),
      tenantId: 'acme',
      serviceKeyId: '1b2c3d4e-2b1a-4d6e-9d7a-2f1c7a4e2b1a',
      requestId: 'req-1',
      tokenFingerprint: 'k1:abc',
      detail: { refreshed: true, note: 'line\nbreak "quoted" ü', none: null },
      at: new Date('2026-11-25T10:00:00.123Z'),
    };
    const bare: AuditEntry = { action: 'connection.revoked', at: new Date(0) };
    const events = [full, bare].map((entry) => encodeEvent(entry)).join('\n');
    expect(events.split('\n')).toHaveLength(2);
    expect(decodeBatch({ format: BATCH_FORMAT, firstEventId: 41n, events })).toEqual([
      { ...full, connectionId, id: 41n },
      { ...bare, id: 42n },
    ]);
  });

  it('stores an id that is not a UUID (from a URL) as no id', () => {
    const line = encodeEvent({ action: 'token.read_refused', connectionId: 'x', at: new Date(0) });
    expect(JSON.parse(line)).toEqual(['token.read_refused', null, null, null, null, null, null, 0]);
  });

  it('reads format 1 lines (jsonb text, with their own ids) without losing digits', () => {
    const events = [
      '[9007199254740993, "token.read", null, "acme", null, null, null, {"n": 1}, 1764064800123]',
      '[9007199254740995, "connection.created", null, null, null, null, null, null, 0]',
    ].join('\n');
    expect(decodeBatch({ format: LEGACY_FORMAT, firstEventId: 1n, events })).toEqual([
      {
        id: 9007199254740993n,
        action: 'token.read',
        tenantId: 'acme',
        detail: { n: 1 },
        at: new Date(1764064800123),
      },
      { id: 9007199254740995n, action: 'connection.created', at: new Date(0) },
    ]);
  });

  it('refuses a format it does not know', () => {
    expect(() => decodeBatch({ format: 3, firstEventId: 1n, events: '[]' })).toThrow(/format 3/);
  });
});
