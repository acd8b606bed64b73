import { randomBytes } from 'node:crypto';
import { TestBrowser } from './browser.js';
import { freePort, startBroker, type TestBroker } from './broker.js';
import { eventually } from './eventually.js';
import { TestClock } from './test-clock.js';

const RETURN_ORIGIN = 'http://127.0.0.1:5999';
const RETURN_URL = `${RETURN_ORIGIN}/app/connected`;

export type ApiResponse = { status: number; body: any; headers: Headers };

/**
 * A broker configured with one built-in provider (`provider: hubspot`…)
 * whose URLs are overridden to point at that provider's documentation-
 * faithful fake: the same integrations file a user writes, with a sandbox
 * host instead of the real one.
 */
export interface Contract {
  broker: TestBroker;
  /** The broker's clock (real time plus what a test advances). */
  clock: TestClock;
  integration: string;
  key: string;
  api(path: string, init?: { method?: string; body?: unknown }): Promise<ApiResponse>;
  /** Runs a browser through connect → the provider's consent → callback; returns the final URL. */
  connect(tenantId: string): Promise<URL>;
  connectOk(tenantId: string): Promise<string>;
  /** Starts a run of `model` and waits for it to end; returns the run. */
  sync(connectionId: string, model: string, body?: Record<string, unknown>): Promise<any>;
  records(connectionId: string, model: string): Promise<any[]>;
  logText(): string;
  stop(): Promise<void>;
}

export interface ContractOptions {
  provider: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** URL overrides and anything else of the integration entry. */
  entry: Record<string, unknown>;
  env?: Record<string, string>;
}

export async function startContract(options: ContractOptions): Promise<Contract> {
  const port = await freePort();
  const integration = `${options.provider}-${randomBytes(3).toString('hex')}`;
  const entry = {
    key: integration,
    provider: options.provider,
    clientId: options.clientId,
    clientSecret: '${CONTRACT_CLIENT_SECRET}',
    scopes: options.scopes,
    // These suites are about each provider's OAuth and API quirks and read
    // `connection_id` off the callback; finalize is covered by finalize.e2e-spec.
    requireFinalize: false,
    ...options.entry,
  };
  const clock = new TestClock();
  const broker = await startBroker({
    port,
    clock,
    integrationsYaml: JSON.stringify({ integrations: [entry] }),
    env: {
      CONTRACT_CLIENT_SECRET: options.clientSecret,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      // Contract tests force refreshes back to back; the cooldown is tested elsewhere.
      REFRESH_COOLDOWN_SECONDS: '0',
      ...options.env,
    },
  });
  const key = await broker.createKey();
  const api: Contract['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${key}`,
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${broker.url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? JSON.parse(text) : undefined,
      headers: response.headers,
    };
  };
  const contract: Contract = {
    broker,
    clock,
    integration,
    key,
    api,
    async connect(tenantId) {
      const session = await api('/v1/connect-sessions', {
        method: 'POST',
        body: { integration, tenantId, endUserId: 'user-1', returnTo: RETURN_URL },
      });
      if (session.status !== 201) throw new Error(`connect session: ${session.status}`);
      const { url } = await new TestBrowser().navigate(
        session.body.connectUrl,
        (u) => u.origin === RETURN_ORIGIN,
      );
      return new URL(url);
    },
    async connectOk(tenantId) {
      const landed = await contract.connect(tenantId);
      const id = landed.searchParams.get('connection_id');
      if (!id) throw new Error(`connect failed: ${landed.searchParams.get('error')}`);
      return id;
    },
    async sync(connectionId, model, body = {}) {
      const started = await api(`/v1/connections/${connectionId}/syncs`, {
        method: 'POST',
        body: { model, ...body },
      });
      if (started.status !== 202)
        throw new Error(`sync: ${started.status} ${JSON.stringify(started.body)}`);
      const [runId] = started.body.syncRunIds as string[];
      let run: any;
      await eventually(
        async () => {
          const runs = await api(`/v1/connections/${connectionId}/syncs`);
          run = runs.body.data.find((r: { id: string }) => r.id === runId);
          if (!['succeeded', 'failed'].includes(run?.status)) throw new Error('still running');
        },
        120_000,
        50,
      );
      return run;
    },
    async records(connectionId, model) {
      const out: any[] = [];
      let cursor: string | null = null;
      do {
        const page: ApiResponse = await api(
          `/v1/connections/${connectionId}/records/${model}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        );
        if (page.status !== 200) throw new Error(`records: ${page.status}`);
        out.push(...page.body.data);
        cursor = page.body.nextCursor;
      } while (cursor);
      return out;
    },
    logText: () => broker.logs.text(),
    stop: () => broker.stop(),
  };
  return contract;
}

/** Records per second of a finished run, from its own timestamps. */
export function recordsPerSecond(run: {
  recordsFetched: number;
  startedAt: string;
  finishedAt: string;
}): number {
  const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
  return Math.round(run.recordsFetched / Math.max(seconds, 0.001));
}
