import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ProviderError } from '../../src/common/errors/app-error.js';
import type { AppConfig } from '../../src/config/app-config.js';
import {
  createProviderFetch,
  type ProviderFetchOptions,
  ProviderHttp,
  type ResolveAll,
} from '../../src/infra/http/provider-http.js';

/**
 * The provider fetch on real sockets: names resolve through a test resolver
 * (so a name can "be" a private or metadata address without any traffic
 * leaving this machine), and a loopback server counts every connection it
 * gets, proving a refused call opened none.
 */
describe('provider calls refuse non-public addresses at connect time', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  const resolved: string[] = [];
  const dispatchers: { close(): Promise<void> }[] = [];

  /** Test names: each maps to the addresses a hostile DNS server could answer. */
  const names: Record<string, LookupAddress[]> = {
    'loopback.test': [{ address: '127.0.0.1', family: 4 }],
    'private.test': [{ address: '10.1.2.3', family: 4 }],
    'cgnat.test': [{ address: '100.64.0.7', family: 4 }],
    'metadata.test': [{ address: '169.254.169.254', family: 4 }],
    'mapped-metadata.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
    'ula.test': [{ address: 'fd00:ec2::254', family: 6 }],
    'link-local6.test': [{ address: 'fe80::1', family: 6 }],
    'unspecified.test': [{ address: '0.0.0.0', family: 4 }],
    // One good and one bad answer: refused, not raced.
    'mixed.test': [
      { address: '127.0.0.1', family: 4 },
      { address: '192.168.1.10', family: 4 },
    ],
  };
  const resolve: ResolveAll = (hostname, _options, callback) => {
    resolved.push(hostname);
    const addresses = names[hostname];
    if (!addresses) {
      callback(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
        [],
      );
      return;
    }
    callback(null, addresses);
  };

  function providerFetch(options: Partial<ProviderFetchOptions> = {}) {
    const made = createProviderFetch({
      timeoutMs: 2_000,
      maxResponseBytes: 1_000_000,
      allowLoopback: false,
      resolve,
      ...options,
    });
    dispatchers.push(made.dispatcher);
    return made.fetch;
  }

  beforeAll(async () => {
    // A bare HTTP/1.1 answer: enough for fetch, and every connection is counted.
    server = createServer((socket) => {
      connections += 1;
      socket.once('data', () =>
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"ok":true}',
        ),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.close()));
    connections = 0;
    resolved.length = 0;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });

  async function refusal(call: Promise<Response>): Promise<ProviderError> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }

  const secretRequest = (fetch: ReturnType<typeof providerFetch>, url: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=rt-very-secret&client_secret=cs-very-secret',
    });

  it.each([
    ['private.test', 'private'],
    ['cgnat.test', 'private'],
    ['metadata.test', 'link-local'],
    ['mapped-metadata.test', 'link-local'],
    ['ula.test', 'private'],
    ['link-local6.test', 'link-local'],
    ['unspecified.test', 'unspecified'],
  ])('%s (%s) is refused, even with loopback allowed', async (host, kind) => {
    const fetch = providerFetch({ allowLoopback: true });
    for (const scheme of ['http', 'https']) {
      const error = await refusal(secretRequest(fetch, `${scheme}://${host}:${port}/token`));
      expect(error.code).toBe('provider_address_refused');
      expect(error.kind).toBe('provider');
      expect(error.detail.transient).toBe(false);
      expect(error.message).toContain(host);
      expect(error.message).toContain(kind);
      expect(error.message).not.toMatch(/very-secret/);
    }
    expect(resolved).toContain(host);
  });

  it('a name resolving to loopback is refused without the flag, and no connection is opened', async () => {
    const fetch = providerFetch({ allowLoopback: false });
    for (const url of [
      `http://loopback.test:${port}/token`,
      `https://loopback.test:${port}/token`,
    ]) {
      const error = await refusal(secretRequest(fetch, url));
      expect(error.code).toBe('provider_address_refused');
      expect(error.message).toContain('loopback.test');
      expect(error.message).toContain('loopback');
    }
    expect(connections).toBe(0);
  });

  it('a name with one loopback and one private address is refused, and no connection is opened', async () => {
    const fetch = providerFetch({ allowLoopback: true });
    const error = await refusal(secretRequest(fetch, `http://mixed.test:${port}/token`));
    expect(error.code).toBe('provider_address_refused');
    expect(error.message).toContain('private');
    expect(connections).toBe(0);
  });

  it('a literal loopback IP (no DNS lookup) is refused without the flag, and no connection is opened', async () => {
    const fetch = providerFetch({ allowLoopback: false });
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
      const error = await refusal(secretRequest(fetch, `http://${host}:${port}/token`));
      expect(error.code).toBe('provider_address_refused');
    }
    expect(resolved).toEqual([]);
    expect(connections).toBe(0);
  });

  it("the proxy's streamed exchange goes through the same connector: refused without the flag, answered with it", async () => {
    const http = (allowLoopback: boolean) =>
      new ProviderHttp({
        providerHttp: { timeoutMs: 2_000, maxResponseBytes: 1_000_000 },
        allowInsecureLoopbackProviders: allowLoopback,
      } as AppConfig);
    const url = new URL(`http://127.0.0.1:${port}/v1/contacts?q=1`);
    const init = { method: 'GET', headers: { authorization: 'Bearer at-very-secret' } };
    const refused = http(false);
    const error = await refused.exchange(url, init).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('provider_address_refused');
    expect((error as ProviderError).message).not.toMatch(/very-secret/);
    expect(connections).toBe(0);
    await refused.onApplicationShutdown();
    const allowed = http(true);
    const answer = await allowed.exchange(url, init);
    expect(answer.status).toBe(200);
    const chunks: Buffer[] = [];
    for await (const chunk of answer.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('{"ok":true}');
    expect(connections).toBe(1);
    await allowed.onApplicationShutdown();
  });

  it('loopback, by name or literal, works with the flag', async () => {
    const fetch = providerFetch({ allowLoopback: true });
    for (const url of [`http://loopback.test:${port}/token`, `http://127.0.0.1:${port}/token`]) {
      const response = await secretRequest(fetch, url);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
    }
    expect(connections).toBe(2);
  });

  it('the system resolver is used by default: localhost is loopback', async () => {
    const error = await refusal(
      providerFetch({ resolve: undefined })(`http://localhost:${port}/`, { method: 'GET' }),
    );
    expect(error.code).toBe('provider_address_refused');
    expect(connections).toBe(0);
  });

  it('an unknown name stays a network failure (retryable), not a refusal', async () => {
    const fetch = providerFetch();
    const error = await fetch(`https://nowhere.test:${port}/`, { method: 'GET' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).not.toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  });
});
