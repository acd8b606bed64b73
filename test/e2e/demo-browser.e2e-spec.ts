import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createScratchDatabase } from '../support/db.js';
import { type DemoProcess, startDemoProcess } from '../support/demo-process.js';
import { removePrivateRedis, startPrivateRedis } from '../support/private-redis.js';

const CHROMIUM = '/usr/bin/chromium';
// The flags this machine needs: no sandbox as root, and no calls home on a closed network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = path.resolve('docs/demo.png');

/**
 * The demo as a person uses it, in a real browser: `npm run demo`, then
 * Connect CRM (popup) → Allow → active → Sync now → contacts → revoked at the
 * CRM → needs_reauth → Reconnect → Disconnect → Connect in this tab. Ctrl-C
 * stops everything the demo started.
 */
describe('the demo in Chromium', () => {
  let database: { url: string; drop(): Promise<void> };
  let demo: DemoProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    database = await createScratchDatabase('demo', { migrate: false });
    demo = await startDemoProcess(database.url);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (demo && demo.child.exitCode === null) {
      demo.child.kill('SIGKILL');
      await demo.exited;
    }
    await database?.drop();
  });

  const status = () => page.locator('#status');

  async function allowInPopup(click: () => Promise<void>) {
    const [popup] = await Promise.all([page.waitForEvent('popup'), click()]);
    // The result page closes the popup at once: wait for that before clicking, or it can be missed.
    const closed = popup.waitForEvent('close');
    await popup
      .getByRole('button', { name: 'Allow' })
      .click()
      .catch((error: unknown) => {
        if (!popup.isClosed()) throw error;
      });
    await closed;
  }

  it('prints its URL last, and the page offers "Connect CRM"', async () => {
    expect(demo.output().trim().split('\n').at(-1)).toMatch(/Demo ready: open http:\/\/\S+/);
    await page.goto(demo.appUrl);
    await expect(page.getByRole('button', { name: 'Connect CRM' }).isVisible()).resolves.toBe(true);
  }, 30_000);

  it('Connect CRM → Allow in the popup → active, with account, scopes and token times', async () => {
    await allowInPopup(() => page.getByRole('button', { name: 'Connect CRM' }).click());
    await page.locator('#status', { hasText: 'active' }).waitFor();
    expect(await status().textContent()).toBe('active');
    expect(await page.locator('#account').textContent()).toContain('Ada Lovelace');
    expect(await page.locator('#scopes').textContent()).toContain('contacts.read');
    expect(await page.locator('#expiry').textContent()).toMatch(/expires in \d+:\d\d/);
    expect(await page.locator('#next-refresh').textContent()).toMatch(/in \d+:\d\d|due/);
    // The callback alone stores nothing: the app's backend finalized (requireFinalize, the default).
    await page.locator('#calls', { hasText: '/finalize' }).waitFor();
  }, 40_000);

  it('Sync now → the run succeeds and the contacts table fills from the records API', async () => {
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.locator('#sync-status', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    await page.locator('#contacts tbody tr').nth(24).waitFor();
    expect(await page.locator('#contacts tbody tr').count()).toBe(25);
    expect(await page.locator('#sync-summary').textContent()).toContain('25 fetched');
    expect(await page.locator('#contacts').textContent()).toContain('grace.hopper@example.test');
    expect(await page.locator('#calls').textContent()).toContain('/records/contacts');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }, 60_000);

  it('revoked at the CRM → needs_reauth and Reconnect → active again, same connection', async () => {
    const before = await page.locator('#connection-id').textContent();
    await page.locator('.sandbox-tools summary').click();
    await page.getByRole('button', { name: 'Revoke access in the CRM' }).click();
    await page.locator('#status', { hasText: 'needs_reauth' }).waitFor();
    expect(await page.getByRole('button', { name: 'Reconnect' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Sync now' }).isVisible()).toBe(false);
    await allowInPopup(() => page.getByRole('button', { name: 'Reconnect' }).click());
    await page.locator('#status', { hasText: 'active' }).waitFor();
    expect(await page.locator('#connection-id').textContent()).toBe(before);
  }, 40_000);

  it('Disconnect → back to "Connect CRM"; the redirect variant connects in this tab', async () => {
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('button', { name: 'Connect CRM' }).waitFor();
    expect(await page.locator('#notice').textContent()).toContain('Disconnected');
    await page.getByRole('button', { name: 'Connect in this tab instead' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(demo.appUrl));
    await page.locator('#status', { hasText: 'active' }).waitFor();
    // The finalize token and connection id do not stay in the address bar.
    expect(page.url()).not.toMatch(/finalize=|connection_id=/);
    expect(await page.locator('#notice').textContent()).toContain('Connected');
  }, 40_000);

  it('Ctrl-C stops the demo and the broker it started', async () => {
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    await expect(fetch(`${demo.brokerUrl}/health/live`)).rejects.toThrow();
  }, 30_000);
});

/** `npm run demo` with a dependency down: one plain sentence and exit code 1, no stack. */
describe('the demo without its dependencies', () => {
  it.each<[string, Record<string, string>, RegExp]>([
    ['Redis', { REDIS_URL: 'redis://127.0.0.1:1' }, /Redis is not reachable at 127\.0\.0\.1:1/],
    [
      'PostgreSQL',
      { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/tb_test_demo_down' },
      /PostgreSQL is not reachable at 127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    ],
  ])(
    'says plainly that %s is down',
    async (_what, env, message) => {
      const started = startDemoProcess(
        env.DATABASE_URL ?? 'postgresql://unused@127.0.0.1:1/x',
        env,
      );
      const error = await started.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/^demo exited \(1\)/);
      expect(error?.message).toMatch(message);
      expect(error?.message).toMatch(/The demo cannot start/);
      expect(error?.message).not.toMatch(/\n\s+at /);
    },
    60_000,
  );
});

/** Redis goes away under a running demo: Ctrl-C still stops it and its broker (no orphan). */
describe('the demo when Redis goes away', () => {
  it('Ctrl-C stops the demo and the broker promptly', async () => {
    const database = await createScratchDatabase('demo_redis', { migrate: false });
    const redis = await startPrivateRedis();
    try {
      const demo = await startDemoProcess(database.url, { REDIS_URL: redis.url });
      await redis.stop();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const sent = Date.now();
      demo.child.kill('SIGINT');
      expect(await demo.exited).toBe(0);
      const took = Date.now() - sent;
      process.stdout.write(`demo Ctrl-C with Redis down: stopped in ${took} ms\n`);
      expect(took).toBeLessThan(15_000);
      await expect(fetch(`${demo.brokerUrl}/health/live`)).rejects.toThrow();
    } finally {
      await removePrivateRedis(redis);
      await database.drop();
    }
  }, 150_000);
});
