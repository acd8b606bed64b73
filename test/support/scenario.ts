import { randomBytes } from 'node:crypto';
import { runCli } from '../../src/cli/run-cli.js';
import { startSandbox, SANDBOX_CLIENT_ID, type Sandbox } from '../../sandbox/sandbox.js';
import { TestBrowser } from './browser.js';
import { freePort, startBroker, type TestBroker } from './broker.js';
import { TestClock } from './test-clock.js';
import { testEnv } from './test-env.js';

export const RETURN_ORIGIN = 'http://127.0.0.1:5999';
export const RETURN_URL = `${RETURN_ORIGIN}/app/connected`;

type ApiInit = { method?: string; key?: string; body?: unknown; rawBody?: string; broker?: number };
export type ApiResponse = { status: number; body: any; headers: Headers };

export interface Scenario {
  sandbox: Sandbox;
  /** The first broker: the connect flow and `api()` go through it unless told otherwise. */
  broker: TestBroker;
  /** Every broker of this deployment (same database, Redis prefix, clock and PUBLIC_URL). */
  brokers: TestBroker[];
  /** This scenario's own integration key, so brokers of other suites leave its connections alone. */
  integration: string;
  clock: TestClock;
  clientSecret: string;
  /** Every secret handed out during the run, for the log leak check. */
  secrets: Set<string>;
  api(path: string, init?: ApiInit): Promise<ApiResponse>;
  cliCreateKey(args: string[]): Promise<string>;
  createSession(
    key: string,
    body?: Record<string, unknown>,
  ): Promise<{ id: string; token: string; connectUrl: string }>;
  /** Runs a browser through connect → consent → callback; returns the final return URL. */
  connect(key: string, body?: Record<string, unknown>, browser?: TestBrowser): Promise<URL>;
  /** Connects and returns the new connection's id (fails the test otherwise). */
  connectOk(key: string, body?: Record<string, unknown>): Promise<string>;
  /** Every broker's captured log lines. */
  logText(): string;
  /** The integrations file and environment the brokers run with (for extra broker processes). */
  brokerSetup: { integrationsYaml: string; env: Record<string, string> };
  stop(): Promise<void>;
}

export interface ScenarioOptions {
  accessTokenTtlSeconds?: number;
  env?: Record<string, string>;
  /** Replicas of the broker (default 1). */
  brokers?: number;
  /** `sync.every` of the integration (default: no schedule). */
  syncEvery?: string;
  /**
   * `requireFinalize` of the integration: false unless told (these suites are
   * about other things and read `connection_id` off the callback); `'default'`
   * leaves the line out, for the broker's own default (finalize).
   */
  requireFinalize?: boolean | 'default';
  /** `scopes` of the integration's models (default: none declared). */
  modelScopes?: Record<string, string[]>;
  /** `requiredScopes` of the integration (default: all of its scopes). */
  requiredScopes?: string[];
  /** `api.proxyRoutes` of the integration: scopes proxied calls under a path prefix need (default: none). */
  proxyRoutes?: Array<{
    pathPrefix: string;
    methods?: string[];
    scopes: Array<string | { anyOf: string[] }>;
  }>;
}

const CONTACTS_PAGE = 100;

/** The sandbox CRM described as the integrations file describes any REST API: one pagination style per model. */
function integrationsYaml(
  integration: string,
  syncEvery?: string,
  requireFinalize: boolean | 'default' = false,
  scopeOptions: Pick<ScenarioOptions, 'modelScopes' | 'requiredScopes' | 'proxyRoutes'> = {},
): string {
  const scopes = (model: string) => {
    const needed = scopeOptions.modelScopes?.[model];
    return needed ? `scopes: [${needed.join(', ')}], ` : '';
  };
  const proxyRoutes = scopeOptions.proxyRoutes
    ? `proxyRoutes: ${JSON.stringify(scopeOptions.proxyRoutes)}`
    : '';
  const incremental =
    'updatedAtField: updated_at, deletedField: archived, updatedSinceParam: updated_since';
  return `
integrations:
  - key: ${integration}
    provider: oidc
    issuer: \${SANDBOX_ISSUER}
    clientId: ${SANDBOX_CLIENT_ID}
    clientSecret: \${SANDBOX_CLIENT_SECRET}
    scopes: [openid, offline_access, email, profile, contacts.read, companies.read]
    authorizationParams: { prompt: consent }
    ${scopeOptions.requiredScopes ? `requiredScopes: [${scopeOptions.requiredScopes.join(', ')}]` : ''}
    ${requireFinalize === 'default' ? '' : `requireFinalize: ${requireFinalize}`}
    api:
      baseUrl: \${SANDBOX_CRM}
      ${proxyRoutes}
      models:
        contacts: { ${scopes('contacts')}path: /v1/contacts, itemsPath: data, idField: id, ${incremental},
                    pagination: { type: cursor, cursorParam: cursor, nextCursorPath: next_cursor, limitParam: limit, limit: ${CONTACTS_PAGE} } }
        companies: { ${scopes('companies')}path: /v1/companies, itemsPath: results, idField: id, ${incremental},
                     pagination: { type: page, pageParam: page, limitParam: limit, limit: 50 } }
        deals: { path: /v1/deals, idField: id, ${incremental}, pagination: { type: link, limitParam: limit, limit: 50 } }
        tasks: { path: /v1/tasks, itemsPath: items, idField: id, pagination: { type: offset, offsetParam: offset, limitParam: limit, limit: 50 } }
    sync: { models: [contacts, companies]${syncEvery ? `, every: ${syncEvery}` : ''} }
`;
}

/** The sandbox authorization server and CRM, and one or more brokers configured for them. */
export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const port = await freePort();
  const integration = `crm-${randomBytes(4).toString('hex')}`;
  const clientSecret = `sandbox-secret-${randomBytes(12).toString('hex')}`;
  const publicUrl = `http://127.0.0.1:${port}`;
  const sandbox = await startSandbox({
    redirectUris: [`${publicUrl}/v1/oauth/callback/${integration}`],
    clientSecret,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
  });
  const clock = new TestClock();
  const yaml = integrationsYaml(integration, options.syncEvery, options.requireFinalize, options);
  const env: Record<string, string> = {
    SANDBOX_CRM: sandbox.crm.baseUrl,
    SANDBOX_ISSUER: sandbox.auth.issuer,
    SANDBOX_CLIENT_SECRET: clientSecret,
    ALLOWED_RETURN_URLS: `${RETURN_ORIGIN}/app`,
    PUBLIC_URL: publicUrl,
    ...options.env,
  };
  const brokers: TestBroker[] = [];
  try {
    brokers.push(await startBroker({ port, clock, integrationsYaml: yaml, env }));
    for (let i = 1; i < (options.brokers ?? 1); i += 1) {
      brokers.push(
        await startBroker({
          clock,
          integrationsYaml: yaml,
          env,
          redisPrefix: brokers[0]!.redisPrefix,
        }),
      );
    }
  } catch (error) {
    await Promise.all(brokers.map((b) => b.stop()));
    await sandbox.stop();
    throw error;
  }
  const broker = brokers[0]!;
  const secrets = new Set<string>([clientSecret]);
  const api: Scenario['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.key) headers.authorization = `Bearer ${init.key}`;
    let body: string | undefined = init.rawBody;
    if (init.body !== undefined) body = JSON.stringify(init.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const target = brokers[init.broker ?? 0]!;
    const response = await fetch(`${target.url}${path}`, {
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
    brokers,
    integration,
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
          integration,
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
    async connectOk(key, body) {
      const landed = await scenario.connect(key, body);
      const id = landed.searchParams.get('connection_id');
      if (!id) throw new Error(`connect failed: ${landed.searchParams.get('error')}`);
      return id;
    },
    logText: () => brokers.map((b) => b.logs.text()).join('\n'),
    brokerSetup: { integrationsYaml: yaml, env: { ...env, REDIS_PREFIX: broker.redisPrefix } },
    async stop() {
      await Promise.all(brokers.map((b) => b.stop()));
      await sandbox.stop();
    },
  };
  return scenario;
}
