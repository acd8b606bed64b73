import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectionsRepository } from '../../src/connections/connections.repository.js';
import { CredentialSealer } from '../../src/crypto/credential-sealer.js';
import { spawnBrokerProcess } from '../support/broker-process.js';
import { createScratchDatabase } from '../support/db.js';
import { runCipher, testPrisma } from '../support/infra.js';

const validYaml = `
integrations:
  - key: crm
    provider: oauth2
    clientId: c
    clientSecret: s
    authorizationUrl: https://auth.example.com/authorize
    tokenUrl: https://auth.example.com/token
    api:
      baseUrl: https://api.example.com
      models:
        contacts: { path: /contacts, pagination: { type: cursor, cursorParam: c, nextCursorPath: next } }
`;

/** The real process refuses to start on bad configuration, naming what is wrong, with exit code 1. */
describe('start-up validation', () => {
  beforeAll(async () => {
    // Something stored under the run's key, for the broker to fail to read with another.
    const prisma = testPrisma();
    await new ConnectionsRepository(prisma, new CredentialSealer(await runCipher())).saveGrant({
      tenantId: 'tenant-startup',
      integrationKey: 'crm',
      provider: 'oauth2',
      account: { id: 'acct-startup' },
      tokens: {
        accessToken: 'at',
        tokenType: 'Bearer',
        expiresAt: new Date(),
        scopes: [],
        extras: {},
      },
      status: 'active',
      at: new Date(),
    });
    await prisma.$disconnect();
  });

  async function start(yaml: string, env: Record<string, string> = {}) {
    const broker = spawnBrokerProcess({
      integrationsYaml: yaml,
      env: { PUBLIC_URL: 'http://127.0.0.1:1', ROLE: 'api', ...env },
    });
    // A broker that does start is a failure of this test; don't let it linger.
    const timer = setTimeout(() => broker.child.kill('SIGKILL'), 20_000);
    const code = await broker.exited;
    clearTimeout(timer);
    return { code, output: broker.logs.text() };
  }

  it.each([
    [
      'an unknown pagination type',
      validYaml.replace('type: cursor', 'type: magic'),
      /integrations\[0\]\.api\.models\.contacts\.pagination\.type/,
    ],
    [
      'a model without path',
      validYaml.replace('path: /contacts, ', ''),
      /integrations\[0\]\.api\.models\.contacts\.path/,
    ],
  ])(
    '%s in the integrations file',
    async (_what, yaml, message) => {
      const { code, output } = await start(yaml);
      expect(code).toBe(1);
      expect(output).toMatch(/^Configuration error: INTEGRATIONS_FILE/m);
      expect(output).toMatch(message);
    },
    30_000,
  );

  it.each([
    ['no ENCRYPTION_KEYS', { ENCRYPTION_KEYS: '' }, /ENCRYPTION_KEYS/],
    [
      'a malformed key',
      { ENCRYPTION_KEYS: 'k1:not-a-key' },
      /ENCRYPTION_KEYS: key "k1" must be 32 random bytes/,
    ],
    [
      'keys that cannot read the stored credentials',
      { ENCRYPTION_KEYS: `other:${randomBytes(32).toString('base64')}` },
      /ENCRYPTION_KEYS: stored credentials use key "run", which is not configured/,
    ],
  ])(
    '%s',
    async (_what, env, message) => {
      const { code, output } = await start(validYaml, env);
      expect(code).toBe(1);
      expect(output).toMatch(message);
    },
    30_000,
  );

  it('an unmigrated database: one line that says how to migrate, and no attempt to serve', async () => {
    const empty = await createScratchDatabase('startup_empty', { migrate: false });
    try {
      const { code, output } = await start(validYaml, { DATABASE_URL: empty.url });
      expect(code).toBe(1);
      expect(output).toMatch(
        /^Database not ready: database "[^"]+" has no schema yet: run `npm run db:migrate:deploy`$/m,
      );
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      await empty.drop();
    }
  }, 30_000);

  it('ENCRYPTION_KEYS_FILE in place of ENCRYPTION_KEYS', async () => {
    const file = path.join(tmpdir(), `tb-keys-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, `other:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    // A key read from the file, proven by the check that it cannot open the run's rows.
    const { code, output } = await start(validYaml, {
      ENCRYPTION_KEYS: '',
      ENCRYPTION_KEYS_FILE: file,
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /ENCRYPTION_KEYS: stored credentials use key "run", which is not configured/,
    );
  }, 30_000);
});
