import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestBrowser } from '../support/browser.js';
import { RETURN_ORIGIN, type Scenario, startScenario } from '../support/scenario.js';

/**
 * GET /v1/connect-sessions/:id: how a connect flow ended, for the app's
 * backend (service key) and for the frontend snippet (the session's own
 * token), which polls it when a provider's COOP header cut the popup off.
 */
describe('connect session status', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;
  const nextTenant = () => `tenant-status-${++tenant}`;

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'status']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const status = (id: string, bearer: string) =>
    s.api(`/v1/connect-sessions/${id}`, { key: bearer });

  it('pending, then completed with the connection id; the same for the key and the session token', async () => {
    const session = await s.createSession(key, { tenantId: nextTenant() });
    const before = await status(session.id, session.token);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      id: session.id,
      integration: s.integration,
      status: 'pending',
    });
    const landed = await new TestBrowser().navigate(
      session.connectUrl,
      (u) => u.origin === RETURN_ORIGIN,
    );
    const connectionId = new URL(landed.url).searchParams.get('connection_id');
    expect(connectionId).toBeTruthy();
    for (const bearer of [key, session.token]) {
      const after = await status(session.id, bearer);
      expect(after.body).toEqual({
        id: session.id,
        integration: s.integration,
        tenantId: expect.any(String),
        expiresAt: expect.any(String),
        status: 'completed',
        connectionId,
      });
      expect(JSON.stringify(after.body)).not.toContain(session.token);
    }
  });

  it('failed with the fixed error code when the user denies', async () => {
    s.sandbox.auth.consent = { accountId: 'acct-ada', deny: true };
    try {
      const session = await s.createSession(key, { tenantId: nextTenant() });
      await new TestBrowser().navigate(session.connectUrl, (u) => u.origin === RETURN_ORIGIN);
      const after = await status(session.id, session.token);
      expect(after.body).toMatchObject({ status: 'failed', error: 'access_denied' });
    } finally {
      s.sandbox.auth.consent = { accountId: 'acct-ada' };
    }
  });

  it('expired once unused past its lifetime', async () => {
    const session = await s.createSession(key, { tenantId: nextTenant() });
    s.clock.advance(31 * 60 * 1000);
    try {
      expect((await status(session.id, key)).body.status).toBe('expired');
    } finally {
      s.clock.reset();
    }
  });

  it("another session's token, another tenant's key, or no credential: 404 or 401, no oracle", async () => {
    const mine = await s.createSession(key, { tenantId: nextTenant() });
    const other = await s.createSession(key, { tenantId: nextTenant() });
    const wrongToken = await status(mine.id, other.token);
    expect(wrongToken.status).toBe(404);
    expect(wrongToken.body.error.code).toBe('connect_session_not_found');
    const narrowKey = await s.cliCreateKey(['--name', 'narrow', '--tenant', 'someone-else']);
    expect((await status(mine.id, narrowKey)).status).toBe(404);
    expect((await status('not-a-uuid', key)).status).toBe(404);
    expect((await s.api(`/v1/connect-sessions/${mine.id}`)).status).toBe(401);
    // A session token opens nothing else.
    const elsewhere = await s.api('/v1/connections', { key: mine.token });
    expect(elsewhere.status).toBe(401);
  });

  it('CORS: the app origin may poll across origins; other origins get no CORS headers', async () => {
    const session = await s.createSession(key, { tenantId: nextTenant() });
    const url = `${s.broker.url}/v1/connect-sessions/${session.id}`;
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: RETURN_ORIGIN,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(RETURN_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization');
    const read = await fetch(url, {
      headers: { origin: RETURN_ORIGIN, authorization: `Bearer ${session.token}` },
    });
    expect(read.headers.get('access-control-allow-origin')).toBe(RETURN_ORIGIN);
    const foreign = await fetch(url, {
      headers: { origin: 'https://evil.example', authorization: `Bearer ${session.token}` },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    // Other routes stay without CORS, even for the app origin.
    const other = await fetch(`${s.broker.url}/v1/connections`, {
      method: 'OPTIONS',
      headers: { origin: RETURN_ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the frontend snippet as a cross-origin ES module', async () => {
    const response = await fetch(`${s.broker.url}/sdk/connect.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const source = await response.text();
    expect(source).toMatch(/export function connect\(/);
    expect(source).toMatch(/export function readRedirectResult\(/);
  });
});
