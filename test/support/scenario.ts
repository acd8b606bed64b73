import { randomBytes } from 'node:crypto';
import { runCli } from '../../src/cli/run-cli.js';
import { startSandbox, SANDBOX_CLIENT_ID, type Sandbox } from '../sandbox/sandbox.js';
import { TestBrowser } from './browser.js';
import { freePort, startBroker, type TestBroker } from './broker.js';
import { TestClock } from './test-clock.js';
import { testEnv } from './test-env.js';

export const RETURN_ORIGIN = 'http://127.0.0.1:5999';
export const RETURN_URL = `${RETURN_ORIGIN}/app/connected`;
export const INTEGRATION = 'sandbox-crm';

export interface Scenario {
  sandbox: Sandbox;
  broker: TestBroker;
  clock: TestClock;
  clientSecret: string;
  /** Every secret handed out during the run, for the log leak check. */
  secrets: Set<string>;
  api(
    path: string,
    init?: { method?: string; key?: string; body?: unknown; rawBody?: string },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  cliCreateKey(args: string[]): Promise<string>;
  createSession(
    key: string,
    body?: Record<string, unknown>,
  ): Promise<{ id: string; token: string; connectUrl: string }>;
  /** Runs the browser through connect → consent → callback; returns the final return URL. */
  connect(key: string, body?: Record<string, unknown>, browser?: TestBrowser): Promise<URL>;
  stop(): Promise<void>;
}

export function integrationsYaml(extra = ''): string {
  return `
integrations:
  - key: ${INTEGRATION}
    provider: oidc
    issuer: \${SANDBOX_ISSUER}
    clientId: ${SANDBOX_CLIENT_ID}
    clientSecret: \${SANDBOX_CLIENT_SECRET}
    scopes: [openid, offline_access, email, profile, contacts.read]
    authorizationParams: { prompt: consent }
${extra}`;
}

/** The sandbox authorization server and CRM, and a broker configured for them. */
export async function startScenario(
  options: { accessTokenTtlSeconds?: number; env?: Record<string, string> } = {},
): Promise<Scenario> {
  const port = await freePort();
  const clientSecret = `sandbox-secret-${randomBytes(12).toString('hex')}`;
  const sandbox = await startSandbox({
    redirectUris: [`http://127.0.0.1:${port}/v1/oauth/callback/${INTEGRATION}`],
    clientSecret,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
  });
  const clock = new TestClock();
  const broker = await startBroker({
    port,
    clock,
    integrationsYaml: integrationsYaml(),
    env: {
      SANDBOX_ISSUER: sandbox.auth.issuer,
      SANDBOX_CLIENT_SECRET: clientSecret,
      ALLOWED_RETURN_URLS: `${RETURN_ORIGIN}/app`,
      ...options.env,
    },
  }).catch(async (error: unknown) => {
    await sandbox.stop();
    throw error;
  });
  const secrets = new Set<string>([clientSecret]);
  const api: Scenario['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.key) headers.authorization = `Bearer ${init.key}`;
    let body: string | undefined = init.rawBody;
    if (init.body !== undefined) body = JSON.stringify(init.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${broker.url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? JSON.parse(text) : undefined,
      headers: response.headers,
    };
  };
  const scenario: Scenario = {
    sandbox,
    broker,
    clock,
    clientSecret,
    secrets,
    api,
    async cliCreateKey(args) {
      const out: string[] = [];
      const code = await runCli(
        ['keys', 'create', ...args],
        { DATABASE_URL: testEnv().databaseUrl },
        {
          out: (line) => out.push(line),
          err: () => undefined,
        },
      );
      if (code !== 0 || out.length !== 1) throw new Error(`keys create exited ${code}`);
      secrets.add(out[0]!);
      return out[0]!;
    },
    async createSession(key, body = {}) {
      const response = await api('/v1/connect-sessions', {
        method: 'POST',
        key,
        body: {
          integration: INTEGRATION,
          tenantId: 'tenant-a',
          endUserId: 'user-1',
          returnTo: RETURN_URL,
          ...body,
        },
      });
      if (response.status !== 201)
        throw new Error(`connect session: ${response.status} ${JSON.stringify(response.body)}`);
      secrets.add(response.body.token);
      return response.body;
    },
    async connect(key, body, browser = new TestBrowser()) {
      const session = await scenario.createSession(key, body);
      const { hops, url } = await browser.navigate(
        session.connectUrl,
        (u) => u.origin === RETURN_ORIGIN,
      );
      for (const hop of hops) {
        const code = hop.location && new URL(hop.location, hop.url).searchParams.get('code');
        if (code) secrets.add(code);
      }
      return new URL(url);
    },
    async stop() {
      await broker.stop();
      await sandbox.stop();
    },
  };
  return scenario;
}
