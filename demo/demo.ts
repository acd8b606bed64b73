/**
 * `npm run demo`: the broker (built, in a child process) with the sandbox
 * authorization server and CRM, and a small app with a "Connect CRM" button.
 * Needs PostgreSQL and Redis like the tests; uses its own database and Redis
 * prefix, kept between runs.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startSandbox } from '../test/sandbox/sandbox.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const stateDir = path.join(root, '.demo');
const ports = {
  broker: Number(process.env.DEMO_BROKER_PORT ?? 3000),
  auth: Number(process.env.DEMO_AUTH_PORT ?? 4010),
  crm: Number(process.env.DEMO_CRM_PORT ?? 4011),
  app: Number(process.env.DEMO_APP_PORT ?? 5173),
};
const adminUrl =
  process.env.DEMO_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const databaseUrl = process.env.DATABASE_URL ?? adminUrl.replace(/\/[^/]*$/, '/token_broker_demo');
const brokerUrl = `http://127.0.0.1:${ports.broker}`;
const appUrl = `http://127.0.0.1:${ports.app}`;
const integration = 'sandbox-crm';
const tenantId = 'demo-tenant';

/** Demo-only state that must survive restarts: the database's encryption key and the client secret. */
function persistent(name: string, make: () => string): string {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, name);
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function prepareDatabase(): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  await run(process.execPath, ['prisma/migrate.mjs', 'deploy'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
}

async function main(): Promise<void> {
  await prepareDatabase();
  const clientSecret = persistent('client-secret', () => randomBytes(24).toString('hex'));
  const encryptionKeys = persistent(
    'encryption-keys',
    () => `demo:${randomBytes(32).toString('base64')}`,
  );
  const sandbox = await startSandbox({
    redirectUris: [`${brokerUrl}/v1/oauth/callback/${integration}`],
    clientSecret,
    authPort: ports.auth,
    crmPort: ports.crm,
    interactive: true,
    accessTokenTtlSeconds: 300,
  });
  sandbox.crm.seed('contacts', 25);
  sandbox.crm.seed('companies', 5);

  const integrationsFile = path.join(stateDir, 'integrations.yaml');
  writeFileSync(
    integrationsFile,
    `integrations:
  - key: ${integration}
    provider: oidc
    issuer: ${sandbox.auth.issuer}
    clientId: token-broker-sandbox
    clientSecret: \${DEMO_CLIENT_SECRET}
    scopes: [openid, offline_access, email, profile, contacts.read]
    authorizationParams: { prompt: consent }
    api:
      baseUrl: ${sandbox.crm.baseUrl}
      models:
        contacts:
          path: /v1/contacts
          itemsPath: data
          idField: id
          updatedAtField: updated_at
          deletedField: archived
          updatedSinceParam: updated_since
          pagination: { type: cursor, cursorParam: cursor, nextCursorPath: next_cursor, limitParam: limit, limit: 100 }
    sync: { models: [contacts], every: 15m }
`,
  );
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: 'tb-demo:',
    PUBLIC_URL: brokerUrl,
    HOST: '127.0.0.1',
    PORT: String(ports.broker),
    ENCRYPTION_KEYS: encryptionKeys,
    INTEGRATIONS_FILE: integrationsFile,
    ALLOWED_RETURN_URLS: `${appUrl}/connected`,
    ALLOW_INSECURE_LOOPBACK_PROVIDERS: 'true',
    DEMO_CLIENT_SECRET: clientSecret,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const { stdout } = await run(
    process.execPath,
    ['dist/cli/main.js', 'keys', 'create', '--name', 'demo-app'],
    { cwd: root, env },
  );
  const serviceKey = stdout.trim();
  const broker = spawn(process.execPath, ['dist/main.js'], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  broker.on('exit', (code) => {
    console.error(`broker exited (${code})`);
    process.exit(1);
  });

  const call = async (pathname: string, init: RequestInit = {}) => {
    const response = await fetch(`${brokerUrl}${pathname}`, {
      ...init,
      headers: {
        authorization: `Bearer ${serviceKey}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };

  const app = createServer((req, res) => {
    const url = new URL(req.url ?? '/', appUrl);
    const html = (body: string) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        `<!doctype html><meta charset="utf-8"><title>Demo app</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>${body}`,
      );
    };
    void (async () => {
      if (req.method === 'POST' && url.pathname === '/connect') {
        // The app's backend creates the session; the browser only ever sees the connect URL.
        const { status, body } = await call('/v1/connect-sessions', {
          method: 'POST',
          body: JSON.stringify({
            integration,
            tenantId,
            endUserId: 'demo-user',
            returnTo: `${appUrl}/connected`,
          }),
        });
        if (status !== 201)
          return html(`<p>Could not start: ${status} ${escape(JSON.stringify(body))}</p>`);
        res.statusCode = 303;
        res.setHeader('location', body.connectUrl);
        return res.end();
      }
      if (url.pathname === '/connected') {
        const id = url.searchParams.get('connection_id');
        if (!id)
          return html(
            `<p>Connection failed: <code>${escape(url.searchParams.get('error') ?? 'unknown')}</code></p><p><a href="/">Back</a></p>`,
          );
        // Start syncing the CRM's contacts into the broker (GET …/records/contacts reads them).
        const sync = await call(`/v1/connections/${id}/syncs`, {
          method: 'POST',
          body: JSON.stringify({ model: 'contacts' }),
        });
        const token = await call(`/v1/connections/${id}/token`);
        const contacts = await fetch(`${sandbox.crm.baseUrl}/v1/contacts?limit=10`, {
          headers: { authorization: `Bearer ${token.body.accessToken}` },
        }).then((r) => r.json() as Promise<{ data: Array<{ name: string; email: string }> }>);
        return html(`<h1>Connected</h1><p>Connection <code>${escape(id)}</code>. The first contacts, fetched with a token from the broker:</p>
<ul>${contacts.data.map((c) => `<li>${escape(c.name)} — ${escape(c.email)}</li>`).join('')}</ul>
<p>Sync started: run <code>${escape(String(sync.body?.syncRunIds?.[0] ?? sync.status))}</code>.</p><p><a href="/">Back</a></p>`);
      }
      const list = await call(`/v1/connections?tenantId=${tenantId}`);
      return html(`<h1>Demo app</h1><form method="post" action="/connect"><button>Connect CRM</button></form>
<h2>Connections</h2><ul>${(list.body?.data ?? []).map((c: any) => `<li><code>${escape(c.id)}</code> ${escape(c.status)} — ${escape(c.account.email ?? c.account.id)}</li>`).join('') || '<li>none yet</li>'}</ul>`);
    })().catch((error: unknown) => html(`<p>Error: ${escape(String(error))}</p>`));
  });
  app.listen(ports.app, '127.0.0.1', () => {
    console.log(
      `\nDemo ready: open ${appUrl} and press "Connect CRM".\nBroker ${brokerUrl}, sandbox authorization server ${sandbox.auth.issuer}, sandbox CRM ${sandbox.crm.baseUrl}.\n`,
    );
  });
  const stop = () => {
    broker.removeAllListeners('exit');
    broker.kill('SIGTERM');
    void sandbox.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
