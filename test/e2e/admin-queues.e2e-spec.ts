import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Scenario, startScenario } from '../support/scenario.js';

/** The queue dashboard is closed unless an operator brings a `manage` service key. */
describe('queue dashboard at /admin/queues', () => {
  let s: Scenario;
  let manageKey: string;
  let tokenKey: string;

  beforeAll(async () => {
    s = await startScenario();
    manageKey = await s.cliCreateKey(['--name', 'ops', '--action', 'manage']);
    tokenKey = await s.cliCreateKey(['--name', 'svc', '--action', 'token']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${s.broker.url}${path}`, { headers, redirect: 'manual' });
  const login = (serviceKey: string, next = '/admin/queues') =>
    fetch(`${s.broker.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ serviceKey, next }).toString(),
      redirect: 'manual',
    });
  const sessionCookie = (response: Response) =>
    /tb_admin=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];

  it('sends a browser without a session to the sign-in form, and refuses API calls', async () => {
    const page = await get('/admin/queues', { accept: 'text/html' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fqueues');
    const api = await get('/admin/queues/api/queues');
    expect(api.status).toBe(401);
    expect(((await api.json()) as any).error.code).toBe('admin_login_required');
    const form = await get('/admin/login');
    expect(await form.text()).toContain('name="serviceKey"');
  });

  it('however the URL is spelled, no board route answers without a key', async () => {
    for (const path of [
      '/admin/%71ueues/api/queues',
      '/admin/queues/api/queues?x=1',
      '/admin/queues/api/queues/',
      '//admin/queues/api/queues',
      '/admin/queues/./api/queues',
      '/admin/queues/static/../api/queues',
    ]) {
      const response = await get(path);
      expect({ path, open: response.status === 200 }).toEqual({ path, open: false });
    }
  });

  it('a manage key as a bearer opens it; a key without manage is 403', async () => {
    const allowed = await get('/admin/queues/api/queues', { authorization: `Bearer ${manageKey}` });
    expect(allowed.status).toBe(200);
    const names = ((await allowed.json()) as any).queues.map((q: { name: string }) => q.name);
    expect(names).toEqual(expect.arrayContaining(['refresh', 'sync']));
    const refused = await get('/admin/queues/api/queues', { authorization: `Bearer ${tokenKey}` });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as any).error.code).toBe('action_not_granted');
  });

  it('signs a browser in with the key, then out; never redirects off the dashboard', async () => {
    const signedIn = await login(manageKey, 'https://evil.example/steal');
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/admin/queues');
    const cookie = signedIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/admin/);
    const session = sessionCookie(signedIn)!;
    expect(session).not.toContain(manageKey);
    const page = await get('/admin/queues', { cookie: `tb_admin=${session}`, accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const api = await get('/admin/queues/api/queues', { cookie: `tb_admin=${session}` });
    expect(api.status).toBe(200);
    const out = await fetch(`${s.broker.url}/admin/logout`, {
      method: 'POST',
      headers: { cookie: `tb_admin=${session}` },
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    expect((await get('/admin/queues/api/queues', { cookie: `tb_admin=${session}` })).status).toBe(
      401,
    );
  });

  it('refuses sign-in with a key that is wrong or lacks manage, setting no cookie', async () => {
    for (const [key, notice] of [
      ['tbk_notarealkeynotarealkeynotarealkeynotarealk', 'invalid_key'],
      [tokenKey, 'not_manage'],
    ] as const) {
      const response = await login(key);
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toContain(`notice=${notice}`);
      expect(sessionCookie(response)).toBeUndefined();
    }
  });

  it('a revoked key ends its sessions', async () => {
    const key = await s.cliCreateKey(['--name', 'ops-2', '--action', 'manage']);
    const session = sessionCookie(await login(key))!;
    expect((await get('/admin/queues/api/queues', { cookie: `tb_admin=${session}` })).status).toBe(
      200,
    );
    const list = await s.api('/v1/connections', { key });
    expect(list.status).toBe(200);
    const { runCli } = await import('../../src/cli/run-cli.js');
    const { testEnv } = await import('../support/test-env.js');
    const ids: string[] = [];
    await runCli(
      ['keys', 'list'],
      { DATABASE_URL: testEnv().databaseUrl },
      {
        out: (line) => {
          if (line.includes('\tops-2')) ids.push(line.split('\t')[0]!);
        },
        err: () => undefined,
      },
    );
    await runCli(
      ['keys', 'revoke', ids[0]!],
      { DATABASE_URL: testEnv().databaseUrl },
      {
        out: () => undefined,
        err: () => undefined,
      },
    );
    // The broker trusts a verified key for 30 s (its key cache), then asks the database again.
    s.clock.advance(31_000);
    try {
      expect(
        (await get('/admin/queues/api/queues', { cookie: `tb_admin=${session}` })).status,
      ).toBe(401);
    } finally {
      s.clock.reset();
    }
  });

  it('keeps keys and session tokens out of the log', () => {
    s.secrets.add(manageKey);
    s.secrets.add(tokenKey);
    expect(s.broker.logs.leaked(s.secrets)).toEqual([]);
    expect(s.broker.logs.text()).not.toMatch(/tbad_[A-Za-z0-9_-]{16}/);
  });
});
