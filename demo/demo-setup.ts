import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Sandbox } from '../sandbox/sandbox.js';

/** What the demo's broker, sandbox and app agree on. */
export const DEMO = {
  integration: 'sandbox-crm',
  tenantId: 'demo-tenant',
  endUserId: 'demo-user',
  serviceKeyName: 'demo-app',
} as const;

/**
 * The demo's integration: the sandbox CRM described the way any REST API is
 * (oidc discovery, a cursor-paged contacts model with `updated_since`).
 * The client secret stays a `${…}` reference, resolved by the broker.
 */
export function demoIntegrationsYaml(issuer: string, crmBaseUrl: string): string {
  return `# Written by the demo; see examples/ and README for real CRMs.
integrations:
  - key: ${DEMO.integration}
    provider: oidc
    issuer: ${issuer}
    clientId: token-broker-sandbox
    clientSecret: \${SANDBOX_CLIENT_SECRET}
    scopes: [openid, offline_access, email, profile, contacts.read]
    authorizationParams: { prompt: consent }
    # requireFinalize is on (the default): the demo app's backend finalizes each connection.
    api:
      baseUrl: ${crmBaseUrl}
      models:
        contacts:
          path: /v1/contacts
          itemsPath: data
          idField: id
          updatedAtField: updated_at
          deletedField: archived
          updatedSinceParam: updated_since
          fields: { name: name, email: email, company: company, title: title }
          pagination: { type: cursor, cursorParam: cursor, nextCursorPath: next_cursor, limitParam: limit, limit: 10 }
    sync: { models: [contacts], every: 15m }
`;
}

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Katherine',
  'Edsger',
  'Barbara',
  'Donald',
  'Margaret',
  'Linus',
  'Radia',
  'Ken',
  'Frances',
  'Tim',
  'Hedy',
  'John',
  'Sophie',
  'Dennis',
  'Karen',
  'Niklaus',
  'Annie',
  'Guido',
  'Evelyn',
  'Bjarne',
  'Jean',
  'Leslie',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Johnson',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Hamilton',
  'Torvalds',
  'Perlman',
  'Thompson',
  'Allen',
  'Berners-Lee',
  'Lamarr',
  'Backus',
  'Wilson',
  'Ritchie',
  'Spärck Jones',
  'Wirth',
  'Easley',
  'van Rossum',
  'Boyd',
  'Stroustrup',
  'Bartik',
  'Lamport',
];
const COMPANIES = [
  'Analytical Engines Ltd',
  'Cobol Works',
  'Bletchley Data',
  'Orbit Systems',
  'Northwind Traders',
];
const TITLES = ['Head of Sales', 'Account Executive', 'CTO', 'Operations Lead', 'Founder'];

/** 25 people, as a CRM would hold them. */
export function seedDemoCrm(sandbox: Sandbox): void {
  FIRST.forEach((first, i) => {
    const last = LAST[i]!;
    sandbox.crm.add('contacts', `ct_${String(i + 1).padStart(3, '0')}`, {
      name: `${first} ${last}`,
      email:
        `${first}.${last.normalize('NFD').replace(/[^A-Za-z]/g, '')}@example.test`.toLowerCase(),
      company: COMPANIES[i % COMPANIES.length],
      title: TITLES[i % TITLES.length],
    });
  });
}

/** Demo state kept between starts (keys, secrets): created once, then reused. */
export function persistent(dir: string, name: string, make: () => string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  if (!existsSync(file)) writeFileSync(file, `${make()}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * The demo app's service key: the stored one while the broker still accepts
 * it, else a new one (a fresh database forgets keys; the state folder does not).
 */
export async function demoServiceKey(options: {
  stateDir: string;
  brokerUrl: string;
  mint: () => Promise<string>;
}): Promise<{ key: string; reused: boolean }> {
  const file = path.join(options.stateDir, 'service-key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    const probe = await fetch(`${options.brokerUrl}/v1/integrations`, {
      headers: { authorization: `Bearer ${key}` },
    });
    if (probe.ok) return { key, reused: true };
    if (probe.status !== 401) {
      throw new Error(`the broker answered ${probe.status} when checking the demo's service key`);
    }
  }
  const key = await options.mint();
  mkdirSync(options.stateDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, reused: false };
}

/** Polls until the broker answers ready (PostgreSQL reachable). */
export async function waitForBroker(brokerUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${brokerUrl}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`the broker at ${brokerUrl} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
