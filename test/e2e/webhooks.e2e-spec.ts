import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ReceiverFault, WebhookReceiver } from '../../sandbox/webhook-receiver.js';
import { withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

// A Standard Webhooks secret: the HMAC key is the base64-decoded part.
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** A receiver's check, written from the Standard Webhooks text, not from the broker's code. */
function signatureValid(headers: Record<string, string>, body: string): boolean {
  const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`;
  const key = Buffer.from(WEBHOOK_SECRET.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(signed).digest();
  return (headers['webhook-signature'] ?? '').split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

async function eventRow(id: string) {
  return withDb(async (client) => {
    const { rows } = await client.query(
      'SELECT attempts, delivered_at, failed_at, next_attempt_at, last_error FROM events WHERE id = $1',
      [id],
    );
    return rows[0];
  });
}

describe('webhooks: outbox events POSTed to WEBHOOK_URL, signed, retried', () => {
  const receiver = new WebhookReceiver();
  let s: Scenario;
  let key: string;
  let tenant = 0;

  beforeAll(async () => {
    await receiver.start();
    // Two replicas poll the same outbox: each event must still arrive once.
    s = await startScenario({
      brokers: 2,
      env: {
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET,
        WEBHOOK_POLL_INTERVAL_MS: '100',
      },
    });
    s.secrets.add(WEBHOOK_SECRET);
    key = await s.cliCreateKey(['--name', 'webhooks']);
  });

  let brokersStopped = false;
  afterAll(async () => {
    // The last test stops the brokers itself.
    if (brokersStopped) await s?.sandbox.stop();
    else await s?.stop();
    await receiver.stop();
  });

  const nextTenant = () => {
    tenant += 1;
    return `tenant-hooks-${tenant}`;
  };
  const connect = (tenantId: string) => s.connectOk(key, { tenantId });
  const delivered = async (connectionId: string, type: string) => {
    let found: ReturnType<WebhookReceiver['eventsFor']>[number] | undefined;
    await eventually(
      async () => {
        found = receiver
          .eventsFor(connectionId)
          .find((d) => d.event.type === type && d.status < 300);
        expect(found).toBeDefined();
      },
      20_000,
      50,
    );
    return found!;
  };

  it('connection.created, sync.succeeded, connection.reauth_required and connection.revoked arrive signed, each once', async () => {
    const tenantId = nextTenant();
    const id = await connect(tenantId);
    const created = await delivered(id, 'connection.created');
    expect(signatureValid(created.headers, created.body)).toBe(true);
    expect(created.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(created.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(
      60,
    );
    expect(created.event).toMatchObject({
      id: created.headers['webhook-id'],
      type: 'connection.created',
      data: { connectionId: id, tenantId, integration: s.integration },
    });

    const sync = await s.api(`/v1/connections/${id}/syncs`, {
      method: 'POST',
      key,
      body: { model: 'companies' },
    });
    expect(sync.status).toBe(202);
    const synced = await delivered(id, 'sync.succeeded');
    expect(synced.event.data).toMatchObject({
      syncRunId: sync.body.syncRunIds[0],
      model: 'companies',
    });

    const token = (await s.api(`/v1/connections/${id}/token`, { key })).body.accessToken as string;
    s.secrets.add(token);
    await s.sandbox.auth.revokeAllGrants();
    const forced = await s.api(`/v1/connections/${id}/refresh`, { method: 'POST', key });
    expect(forced.body.error?.code).toBe('needs_reauth');
    await delivered(id, 'connection.reauth_required');

    expect((await s.api(`/v1/connections/${id}`, { method: 'DELETE', key })).status).toBe(204);
    await delivered(id, 'connection.revoked');

    // Give both replicas time to deliver anything twice, if they were going to.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const mine = receiver.eventsFor(id);
    expect(mine.every((d) => signatureValid(d.headers, d.body))).toBe(true);
    expect(mine.map((d) => d.event.type)).toEqual([
      'connection.created',
      'sync.succeeded',
      'connection.reauth_required',
      'connection.revoked',
    ]);
    expect(new Set(mine.map((d) => d.headers['webhook-id'])).size).toBe(mine.length);
    for (const secret of [...s.secrets, s.clientSecret]) {
      for (const d of mine) expect(d.body).not.toContain(secret);
    }
  }, 60_000);

  it('a failing receiver: retried with backoff, Retry-After honoured, then delivered once with the same id', async () => {
    const faults: ReceiverFault[] = [{ status: 503, retryAfter: '120' }, { status: 500 }];
    const tenantId = nextTenant();
    receiver.respond = (event) => (event.data?.tenantId === tenantId ? faults.shift() : undefined);
    const id = await connect(tenantId);
    let first: ReturnType<WebhookReceiver['eventsFor']>[number] | undefined;
    await eventually(async () => {
      first = receiver.eventsFor(id)[0];
      expect(first?.status).toBe(503);
    }, 20_000);
    const eventId = first!.event.id as string;
    let row: any;
    await eventually(async () => {
      row = await eventRow(eventId);
      expect(row.attempts).toBe(1);
    });
    expect(row.last_error).toBe('http_503');
    expect(row.delivered_at).toBeNull();
    // Not before the receiver's Retry-After.
    expect(row.next_attempt_at.getTime() - first!.at).toBeGreaterThanOrEqual(119_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.eventsFor(id)).toHaveLength(1);

    s.clock.advance(121_000);
    await eventually(async () => expect((await eventRow(eventId)).attempts).toBe(2), 20_000);
    expect((await eventRow(eventId)).last_error).toBe('http_500');
    // The backoff after a plain failure is at least a second.
    s.clock.advance(60 * 60_000);
    const ok = await delivered(id, 'connection.created');
    expect(ok.event.id).toBe(eventId);
    expect(signatureValid(ok.headers, ok.body)).toBe(true);
    const final = await eventRow(eventId);
    expect(final.attempts).toBe(3);
    expect(final.delivered_at).not.toBeNull();
    expect(final.last_error).toBeNull();
    expect(receiver.eventsFor(id).map((d) => d.status)).toEqual([503, 500, 204]);
  }, 60_000);

  it('a receiver down for three days: the event is given up, marked failed, and never sent again', async () => {
    const tenantId = nextTenant();
    receiver.respond = (event) => (event.data?.tenantId === tenantId ? { status: 500 } : undefined);
    try {
      const id = await connect(tenantId);
      await eventually(async () => expect(receiver.eventsFor(id).length).toBe(1), 20_000);
      const eventId = receiver.eventsFor(id)[0]!.event.id as string;
      s.clock.advance(73 * 60 * 60_000);
      await eventually(
        async () => expect((await eventRow(eventId)).failed_at).not.toBeNull(),
        20_000,
      );
      const attempts = receiver.eventsFor(id).length;
      s.clock.advance(60 * 60 * 60_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.eventsFor(id)).toHaveLength(attempts);
    } finally {
      receiver.respond = undefined;
    }
  }, 60_000);

  it('events older than the 72-hour delivery window (e.g. from before WEBHOOK_URL was set) are never sent', async () => {
    const marker = randomUUID();
    await withDb((client) =>
      client.query(
        `INSERT INTO events (type, tenant_id, payload, created_at)
         VALUES ('connection.created', 'tenant-hooks-old', $1, now() - interval '4 days')`,
        [JSON.stringify({ connectionId: marker })],
      ),
    );
    const fresh = await connect(nextTenant());
    await delivered(fresh, 'connection.created');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.eventsFor(marker)).toHaveLength(0);
  }, 60_000);

  it('never logs a token, code, client secret, service key or the webhook secret', () => {
    const logs = s.logText();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of s.secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain(receiver.url);
  });

  // Last: it stops the brokers.
  it('shutdown does not wait on a hanging receiver: the POST is cut off and the event released, no attempt spent', async () => {
    const tenantId = nextTenant();
    receiver.respond = (event) =>
      event.data?.tenantId === tenantId ? { status: 0, hang: true } : undefined;
    const id = await connect(tenantId);
    await eventually(async () => expect(receiver.eventsFor(id)).toHaveLength(1), 20_000);
    const eventId = receiver.eventsFor(id)[0]!.event.id as string;
    const started = Date.now();
    await Promise.all(s.brokers.map((broker) => broker.stop()));
    brokersStopped = true;
    // The receiver would have held the POST for PROVIDER_TIMEOUT_MS (10 s).
    expect(Date.now() - started).toBeLessThan(5_000);
    const row = await eventRow(eventId);
    expect(row.attempts).toBe(0);
    expect(row.delivered_at).toBeNull();
    expect(row.next_attempt_at.getTime()).toBeLessThanOrEqual(s.clock.now().getTime());
    receiver.respond = undefined;
  }, 60_000);
});
