import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TestBrowser } from '../support/browser.js';
import { countRows } from '../support/db.js';
import { RETURN_ORIGIN, type Scenario, startScenario } from '../support/scenario.js';

/** Bad input on every edge: each gets its status and code, and nothing is stored. */
describe('connect flow and internal API reject bad input', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;
  /** A fresh tenant per test, so "nothing stored" is a count of zero. */
  let tenantId: string;

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'errors']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  beforeEach(() => {
    tenant += 1;
    tenantId = `tenant-err-${tenant}`;
  });

  afterEach(() => {
    s.sandbox.auth.consent = { accountId: 'acct-ada' };
    s.clock.reset();
  });

  const storedFor = (t: string) => countRows('connections', 'tenant_id = $1', [t]);
  const credentialsFor = (t: string) =>
    countRows('credentials', 'connection_id IN (SELECT id FROM connections WHERE tenant_id = $1)', [
      t,
    ]);

  /** Runs the browser up to (not including) the broker's callback; returns the callback URL. */
  async function reachCallback(browser: TestBrowser): Promise<string> {
    const session = await s.createSession(key, { tenantId });
    const { url } = await browser.navigate(session.connectUrl, (u) =>
      u.pathname.startsWith(`/v1/oauth/callback/`),
    );
    const code = new URL(url).searchParams.get('code');
    if (code) s.secrets.add(code);
    return url;
  }

  function expectError(response: { status: number; body: any }, status: number, code: string) {
    expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
    expect(typeof response.body.error.message).toBe('string');
    expect(typeof response.body.error.requestId).toBe('string');
  }

  it('unknown connect session: 404 connect_session_not_found', async () => {
    const response = await s.api('/v1/connect?session=tbcs_doesnotexistdoesnotexistdoesnotexist00');
    expectError(response, 404, 'connect_session_not_found');
    expectError(await s.api('/v1/connect'), 404, 'connect_session_not_found');
  });

  it('expired connect session: 410 connect_session_expired', async () => {
    const session = await s.createSession(key, { tenantId });
    s.clock.advance(31 * 60 * 1000);
    const response = await s.api(`/v1/connect?session=${session.token}`);
    expectError(response, 410, 'connect_session_expired');
    expect(await storedFor(tenantId)).toBe(0);
  });

  it('a connect link works once: 409 connect_session_used', async () => {
    const session = await s.createSession(key, { tenantId });
    const first = await new TestBrowser().get(session.connectUrl);
    expect(first.status).toBe(302);
    const second = await s.api(`/v1/connect?session=${session.token}`);
    expectError(second, 409, 'connect_session_used');
  });

  it('the connect redirect uses PKCE S256, a 256-bit state, a nonce, and an HttpOnly SameSite=Lax cookie', async () => {
    const session = await s.createSession(key, { tenantId });
    const response = await new TestBrowser().get(session.connectUrl);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).toBe(s.sandbox.auth.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(location.searchParams.get('nonce')).toBeTruthy();
    expect(location.searchParams.get('redirect_uri')).toBe(
      `${s.broker.url}/v1/oauth/callback/${s.integration}`,
    );
    const cookie = response.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/v1\/oauth\/callback\//);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('replayed callback: the second use is 400 invalid_state and changes nothing', async () => {
    const browser = new TestBrowser();
    const callback = await reachCallback(browser);
    const first = await browser.get(callback);
    expect(first.status).toBe(303);
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    expect(first.headers.get('cache-control')).toBe('no-store');
    const connectionId = new URL(first.headers.get('location')!).searchParams.get('connection_id');
    expect(connectionId).toBeTruthy();
    const replay = await s.api(callback.slice(s.broker.url.length));
    expectError(replay, 400, 'invalid_state');
    expect(await storedFor(tenantId)).toBe(1);
  });

  it('callback from a browser without the flow cookie: error=flow_cookie_mismatch, nothing stored', async () => {
    const browser = new TestBrowser();
    const callback = await reachCallback(browser);
    const stranger = new TestBrowser();
    const response = await stranger.get(callback);
    expect(response.status).toBe(303);
    const landed = new URL(response.headers.get('location')!);
    expect(landed.origin).toBe(RETURN_ORIGIN);
    expect(landed.searchParams.get('error')).toBe('flow_cookie_mismatch');
    expect(landed.searchParams.get('connection_id')).toBeNull();
    expect(await storedFor(tenantId)).toBe(0);
    // The state is spent: the rightful browser cannot be raced into a second use either.
    expectError(await s.api(callback.slice(s.broker.url.length)), 400, 'invalid_state');
  });

  it('forged state: 400 invalid_state', async () => {
    const response = await s.api(
      `/v1/oauth/callback/${s.integration}?code=abc&state=forged-state-value`,
    );
    expectError(response, 400, 'invalid_state');
    const html = await new TestBrowser().get(
      `${s.broker.url}/v1/oauth/callback/${s.integration}?code=abc&state=forged`,
    );
    expect(html.status).toBe(400);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(await html.text()).toContain('invalid_state');
  });

  it('callback on another integration path: error=integration_mismatch', async () => {
    const browser = new TestBrowser();
    const callback = await reachCallback(browser);
    const wrong = callback.replace(`/callback/${s.integration}`, '/callback/other-integration');
    const response = await browser.get(wrong);
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe(
      'integration_mismatch',
    );
    expect(await storedFor(tenantId)).toBe(0);
  });

  it('the user denies consent: error=access_denied, provider text not reflected, nothing stored', async () => {
    s.sandbox.auth.consent = { accountId: 'acct-ada', deny: true };
    const landed = await s.connect(key, { tenantId });
    expect(landed.searchParams.get('error')).toBe('access_denied');
    expect(landed.href).not.toMatch(/said|no/i);
    expect(await storedFor(tenantId)).toBe(0);
  });

  it('granted scopes miss a required one: error=insufficient_scope, grant revoked, nothing stored', async () => {
    s.sandbox.auth.consent = {
      accountId: 'acct-ada',
      grantOnly: ['openid', 'offline_access', 'email', 'profile'],
    };
    const revocations = s.sandbox.auth.counters.revocations;
    const landed = await s.connect(key, { tenantId });
    expect(landed.searchParams.get('error')).toBe('insufficient_scope');
    expect(await storedFor(tenantId)).toBe(0);
    expect(await credentialsFor(tenantId)).toBe(0);
    expect(s.sandbox.auth.counters.revocations).toBe(revocations + 1);
  });

  it('returnTo outside the allowlist: 400 return_url_not_allowed', async () => {
    for (const returnTo of [
      'https://evil.example/app',
      `${RETURN_ORIGIN}/other`,
      `${RETURN_ORIGIN}/application`,
    ]) {
      const response = await s.api('/v1/connect-sessions', {
        method: 'POST',
        key,
        body: { integration: s.integration, tenantId, returnTo },
      });
      expectError(response, 400, 'return_url_not_allowed');
    }
    expect(await countRows('connect_sessions', 'tenant_id = $1', [tenantId])).toBe(0);
  });

  it('malformed JSON, unknown fields, wrong types and unknown integrations', async () => {
    const post = (init: { body?: unknown; rawBody?: string }) =>
      s.api('/v1/connect-sessions', { method: 'POST', key, ...init });
    expectError(await post({ rawBody: '{"integration": ' }), 400, 'invalid_json');
    expectError(
      await post({ body: { integration: s.integration, tenantId, admin: true } }),
      400,
      'unknown_field',
    );
    expectError(
      await post({ body: { integration: s.integration, tenantId: 42 } }),
      400,
      'invalid_request',
    );
    expectError(await post({ body: { integration: s.integration } }), 400, 'invalid_request');
    expectError(await post({}), 400, 'invalid_request');
    expectError(
      await post({ body: { integration: 'nope', tenantId } }),
      404,
      'integration_not_found',
    );
    expectError(await s.api('/v1/connections?limit=abc', { key }), 400, 'invalid_request');
    expectError(await s.api('/v1/connections?surprise=1', { key }), 400, 'unknown_field');
    expectError(await s.api('/v1/connections?cursor=garbage', { key }), 400, 'invalid_cursor');
    // The token read's query (parsed as its argument is extracted: ValidQuery).
    const token = `/v1/connections/${randomUUID()}/token`;
    expectError(await s.api(`${token}?minValiditySeconds=-1`, { key }), 400, 'invalid_request');
    expectError(await s.api(`${token}?minValiditySeconds=abc`, { key }), 400, 'invalid_request');
    expectError(await s.api(`${token}?surprise=1`, { key }), 400, 'unknown_field');
    expectError(await s.api(token, { key }), 404, 'connection_not_found');
    expectError(
      await s.api('/v1/connections/not-a-uuid/token', { key }),
      404,
      'connection_not_found',
    );
    expect(await countRows('connect_sessions', 'tenant_id = $1', [tenantId])).toBe(0);
  });

  it('missing, malformed and wrong service keys: 401', async () => {
    expectError(await s.api('/v1/connections'), 401, 'missing_service_key');
    expectError(await s.api('/v1/connections', { key: 'not-a-key' }), 401, 'invalid_service_key');
    expectError(
      await s.api('/v1/connections', { key: `tbk_${'A'.repeat(43)}` }),
      401,
      'invalid_service_key',
    );
  });

  it("a key asking for another tenant's connection gets 404, and a key without the action 403", async () => {
    const landed = await s.connect(key, { tenantId });
    const id = landed.searchParams.get('connection_id')!;
    const stranger = await s.cliCreateKey(['--name', 'stranger', '--tenant', 'someone-else']);
    expectError(
      await s.api(`/v1/connections/${id}`, { key: stranger }),
      404,
      'connection_not_found',
    );
    expectError(
      await s.api(`/v1/connections/${id}/token`, { key: stranger }),
      404,
      'connection_not_found',
    );
    expectError(
      await s.api(`/v1/connections/${id}`, { method: 'DELETE', key: stranger }),
      404,
      'connection_not_found',
    );
    const tokenOnly = await s.cliCreateKey(['--name', 'token-only', '--action', 'token']);
    expectError(
      await s.api(`/v1/connections/${id}`, { key: tokenOnly }),
      403,
      'action_not_granted',
    );
    expectError(
      await s.api('/v1/connect-sessions', {
        method: 'POST',
        key: tokenOnly,
        body: { integration: s.integration, tenantId },
      }),
      403,
      'action_not_granted',
    );
    const otherIntegration = await s.cliCreateKey([
      '--name',
      'narrow',
      '--integration',
      'hubspot-prod',
    ]);
    expectError(
      await s.api(`/v1/connections/${id}/token`, { key: otherIntegration }),
      403,
      'integration_not_granted',
    );
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('active');
  });

  it('unknown ids and unknown routes: 404 in the error envelope', async () => {
    expectError(
      await s.api('/v1/connections/00000000-0000-4000-8000-000000000000', { key }),
      404,
      'connection_not_found',
    );
    expectError(
      await s.api('/v1/connections/not-a-uuid/token', { key }),
      404,
      'connection_not_found',
    );
    expectError(await s.api('/v1/nothing-here', { key }), 404, 'route_not_found');
    expectError(
      await s.api('/v1/connections/x/token?minValiditySeconds=-1', { key }),
      400,
      'invalid_request',
    );
  });

  it('without a return URL, the result page tells its opener by postMessage, to allowed origins only', async () => {
    const session = await s.createSession(key, { tenantId, returnTo: undefined });
    const browser = new TestBrowser();
    const { final } = await browser.navigate(session.connectUrl);
    expect(final.status).toBe(200);
    const csp = final.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    const html = await final.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('token-broker:connect-result');
    expect(html).toContain(JSON.stringify([RETURN_ORIGIN]));
    expect(html).toMatch(/"connectionId":"[0-9a-f-]{36}"/);
    expect(final.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await storedFor(tenantId)).toBe(1);
  });

  it('serves the OpenAPI document and its rendering, offline, and no file outside the allowed assets', async () => {
    const document = await s.api('/docs/openapi.json');
    expect(document.status).toBe(200);
    expect(document.body.openapi).toBe('3.1.0');
    expect(document.body.paths['/v1/connections/{id}/token'].get['x-required-action']).toBe(
      'token',
    );
    const page = await fetch(`${s.broker.url}/docs`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('swagger-ui-bundle.js');
    expect((await fetch(`${s.broker.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
    expect((await fetch(`${s.broker.url}/docs/assets/package.json`)).status).toBe(404);
    expect((await fetch(`${s.broker.url}/docs/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('no error response carries a stack trace or a secret', () => {
    const secrets = new Set([...s.secrets, ...s.sandbox.auth.issuedSecrets]);
    expect(s.broker.logs.leaked(secrets)).toEqual([]);
    expect(s.broker.logs.text()).not.toMatch(/"status":500/);
  });
});
