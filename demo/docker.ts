/**
 * The demo inside `docker compose up` (see docker-compose.yml):
 *   init  writes the demo's secrets and integrations file into the demo-state volume, once
 *   run   the sandbox authorization server and CRM and the demo app, beside the broker
 *
 * The demo container shares the broker's network namespace, so `localhost`
 * means the same place to the browser (through the published ports) and to
 * the broker: the sandbox's issuer URL is one URL for both.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSandbox } from '../sandbox/sandbox.js';
import { startDemoApp } from './demo-app.js';
import {
  DEMO,
  demoIntegrationsYaml,
  demoServiceKey,
  persistent,
  seedDemoCrm,
  waitForBroker,
} from './demo-setup.js';

const STATE_DIR = process.env.DEMO_STATE_DIR ?? '/demo-state';
const PORTS = { broker: 3000, auth: 4010, crm: 4011, app: 5173 };
const ISSUER_HOST = 'localhost';
const BROKER_URL = `http://localhost:${PORTS.broker}`;

function init(): void {
  // Generated here and only here: a broker outside this demo never makes up its own key.
  persistent(STATE_DIR, 'encryption-keys', () => `demo:${randomBytes(32).toString('base64')}`);
  persistent(STATE_DIR, 'sandbox-client-secret', () => randomBytes(24).toString('hex'));
  writeFileSync(
    path.join(STATE_DIR, 'integrations.yaml'),
    demoIntegrationsYaml(`http://${ISSUER_HOST}:${PORTS.auth}`, `http://127.0.0.1:${PORTS.crm}`),
  );
  process.stdout.write(`demo state ready in ${STATE_DIR}\n`);
}

async function run(): Promise<void> {
  const clientSecret = persistent(STATE_DIR, 'sandbox-client-secret', () => {
    throw new Error('run `init` first (docker compose runs it as the setup service)');
  });
  const sandbox = await startSandbox({
    redirectUris: [`${BROKER_URL}/v1/oauth/callback/${DEMO.integration}`],
    clientSecret,
    authPort: PORTS.auth,
    crmPort: PORTS.crm,
    host: '0.0.0.0',
    publicHost: ISSUER_HOST,
    interactive: true,
    accessTokenTtlSeconds: 300,
  });
  seedDemoCrm(sandbox);
  sandbox.crm.pageDelayMs = 250;
  await waitForBroker(BROKER_URL, 120_000);
  const { key, reused } = await demoServiceKey({
    stateDir: STATE_DIR,
    brokerUrl: BROKER_URL,
    mint: async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['dist/cli/main.js', 'keys', 'create', '--name', DEMO.serviceKeyName],
        { env: process.env },
      );
      return stdout.trim();
    },
  });
  const app = await startDemoApp({
    port: PORTS.app,
    host: '0.0.0.0',
    brokerUrl: BROKER_URL,
    brokerPublicUrl: BROKER_URL,
    serviceKey: key,
    revokeAtCrm: () => sandbox.auth.revokeAllGrants(),
  });
  const stop = () =>
    void Promise.allSettled([app.stop(), sandbox.stop()]).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`
Broker API   ${BROKER_URL}  (OpenAPI: ${BROKER_URL}/docs)
Service key  ${key}  (${reused ? 'reused' : 'new'}; kept in the demo-state volume)
             curl -H "Authorization: Bearer ${key}" ${BROKER_URL}/v1/connections

  Demo ready: open http://localhost:${PORTS.app}  and press "Connect CRM".
`);
}

const command = process.argv[2];
if (command === 'init') init();
else if (command === 'run') {
  run().catch((error: unknown) => {
    process.stderr.write(`The demo cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: node --import tsx demo/docker.ts init|run\n');
  process.exit(2);
}
