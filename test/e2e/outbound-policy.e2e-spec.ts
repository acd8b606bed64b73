import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeServer } from '../fakes/fake-server.js';
import { startBroker, type TestBroker } from '../support/broker.js';

interface Listener {
  port: number;
  connections: number;
  bytes: number;
  close(): Promise<void>;
}

/** A TCP listener that only counts: connections and bytes received. */
async function listen(host: string): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    listener.connections += 1;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => (listener.bytes += chunk.length));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, host, done));
  const listener: Listener = {
    port: (server.address() as AddressInfo).port,
    connections: 0,
    bytes: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
  return listener;
}

const CLIENT_SECRET = 'outbound-policy-client-secret-0123456789';

/**
 * Where provider calls may go: a discovery document cannot point the token
 * endpoint (with the client secret and the PKCE verifier) off the URL
 * policy, and a provider host that is loopback is refused after DNS
 * resolution unless ALLOW_INSECURE_LOOPBACK_PROVIDERS=true.
 */
describe('outbound policy for provider calls', () => {
  const issuer = new FakeServer();
  /** On another loopback address: what a hostile discovery document points at. */
  let evil: Listener;
  /** A bare listener on 127.0.0.1, for the providers that must not be reached without the flag. */
  let local: Listener;
  const brokers: TestBroker[] = [];

  /** A discovery document for the issuer at `/<name>`, with `overrides` on top of a good one. */
  function discoveryFor(name: string, overrides: (base: string) => Record<string, string>) {
    issuer.route('GET', new RegExp(`^/${name}/\\.well-known/openid-configuration$`), () => {
      const base = `${issuer.baseUrl}/${name}`;
      return {
        status: 200,
        body: {
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          revocation_endpoint: `${base}/revoke`,
          userinfo_endpoint: `${base}/userinfo`,
          jwks_uri: `${base}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          ...overrides(base),
        },
      };
    });
  }

  const integration = (key: string, issuerUrl: string) => `
  - key: ${key}
    provider: oidc
    issuer: ${issuerUrl}
    clientId: outbound-client
    clientSecret: ${CLIENT_SECRET}
    scopes: [openid]
    requireFinalize: false
    account: { type: end_user }`;

  async function connectStart(broker: TestBroker, key: string) {
    const serviceKey = await broker.createKey();
    const session = await fetch(`${broker.url}/v1/connect-sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ integration: key, tenantId: 'tenant-outbound', endUserId: 'u-1' }),
    });
    expect(session.status).toBe(201);
    const { connectUrl } = (await session.json()) as { connectUrl: string };
    // PUBLIC_URL names port 0 (the broker picked its own): the same path on the real port.
    const start = new URL(connectUrl);
    const response = await fetch(`${broker.url}${start.pathname}${start.search}`, {
      redirect: 'manual',
    });
    const text = await response.text();
    return {
      status: response.status,
      location: response.headers.get('location'),
      text,
      body: text.startsWith('{')
        ? (JSON.parse(text) as { error?: { code: string; message: string } })
        : undefined,
    };
  }

  beforeAll(async () => {
    evil = await listen('127.0.0.2');
    local = await listen('127.0.0.1');
    const evilPort = evil.port;
    await issuer.start();
    discoveryFor('good', () => ({}));
    // Plain http to another loopback address: not 127.0.0.1/localhost/::1, so off-policy even with the flag.
    discoveryFor('evil-token', () => ({ token_endpoint: `http://127.0.0.2:${evilPort}/token` }));
    discoveryFor('evil-jwks', () => ({ jwks_uri: `http://keys.example.com/jwks` }));
    discoveryFor('evil-revocation', () => ({ revocation_endpoint: 'ftp://127.0.0.1/revoke' }));
  });

  afterAll(async () => {
    for (const broker of brokers) await broker.stop();
    await issuer.stop();
    await evil.close();
    await local.close();
  });

  describe('with ALLOW_INSECURE_LOOPBACK_PROVIDERS=true (tests, the demo)', () => {
    let broker: TestBroker;

    beforeAll(async () => {
      const base = issuer.baseUrl;
      broker = await startBroker({
        integrationsYaml: `integrations:${[
          integration('good', `${base}/good`),
          integration('evil-token', `${base}/evil-token`),
          integration('evil-jwks', `${base}/evil-jwks`),
          integration('evil-revocation', `${base}/evil-revocation`),
        ].join('')}`,
      });
      brokers.push(broker);
    });

    it('a loopback provider that keeps to the policy works: the connect start redirects to it', async () => {
      const start = await connectStart(broker, 'good');
      expect(start.status).toBe(302);
      expect(start.location).toMatch(new RegExp(`^${issuer.baseUrl}/good/authorize\\?`));
    });

    it('a discovery document pointing the token endpoint off-policy fails the integration; the evil host receives nothing', async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const start = await connectStart(broker, 'evil-token');
        expect(start.status).toBe(502);
        expect(start.body?.error?.code).toBe('provider_endpoint_not_allowed');
        expect(start.body?.error?.message).toContain('token_endpoint');
        expect(start.body?.error?.message).toContain(`127.0.0.2:${evil.port}`);
      }
      // Refused, and not cached: the document is read again on the next try.
      expect(issuer.hits(/^\/evil-token\/\.well-known/)).toHaveLength(2);
      expect(evil.connections).toBe(0);
      expect(evil.bytes).toBe(0);
    });

    it.each([
      ['evil-jwks', 'jwks_uri', 'must be https'],
      ['evil-revocation', 'revocation_endpoint', 'must be https'],
    ])('%s: an off-policy %s is refused too', async (key, field, problem) => {
      const start = await connectStart(broker, key);
      expect(start.status).toBe(502);
      expect(start.body?.error?.code).toBe('provider_endpoint_not_allowed');
      expect(start.body?.error?.message).toContain(field);
      expect(start.body?.error?.message).toContain(problem);
    });

    it('never writes the client secret to an answer or the log', () => {
      expect(broker.logs.text()).not.toContain(CLIENT_SECRET);
    });
  });

  describe('without the flag', () => {
    let broker: TestBroker;

    beforeAll(async () => {
      // https on a name that resolves to loopback, or on a loopback IP: the
      // URL policy passes them, the address policy does not.
      broker = await startBroker({
        integrationsYaml: `integrations:${integration('loopback-name', `https://localhost:${local.port}/x`)}${integration('loopback-ip', `https://127.0.0.2:${evil.port}/x`)}`,
        env: { ALLOW_INSECURE_LOOPBACK_PROVIDERS: 'false' },
      });
      brokers.push(broker);
    });

    it.each(['loopback-name', 'loopback-ip'])(
      '%s: a provider on a loopback address is refused before any connection',
      async (key) => {
        const start = await connectStart(broker, key);
        expect(start.status).toBe(502);
        expect(start.body?.error?.code).toBe('provider_address_refused');
        expect(start.body?.error?.message).toMatch(/localhost|127\.0\.0\.2/);
        expect(start.body?.error?.message).toContain('loopback');
        expect(local.connections + evil.connections).toBe(0);
      },
    );
  });
});
