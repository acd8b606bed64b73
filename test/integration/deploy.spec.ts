import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { loadIntegrationsFile } from '../../src/integrations/load-integrations.js';
import { ProviderCatalogue } from '../../src/providers/provider-catalogue.js';

/**
 * The Docker files, checked without a Docker engine: what a clean checkout
 * must contain for `docker compose up` to work, and that the default stack
 * needs nothing the user has to provide.
 */
const root = path.resolve(import.meta.dirname, '../..');
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const inCheckout = (relative: string) => {
  const clean = path.posix.normalize(relative).replace(/^\.\/|\/$/g, '');
  return tracked.some((file) => file === clean || file.startsWith(`${clean}/`));
};

type Service = {
  build?: { context: string; target?: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: unknown;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  network_mode?: string;
};
const compose = (file: string) => {
  const text = readFileSync(path.join(root, file), 'utf8');
  return { text, services: YAML.parse(text, { merge: true }).services as Record<string, Service> };
};
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

describe.each(['docker-compose.yml', 'docker-compose.production.yml'])('%s', (file) => {
  const { services } = compose(file);

  it('bind-mounts only paths that exist in a clean checkout', () => {
    const binds = Object.values(services)
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(':')[0]!)
      .filter((source) => source.startsWith('.') || source.startsWith('/'));
    for (const source of binds)
      expect({ source, exists: inCheckout(source) }).toEqual({ source, exists: true });
  });

  it('builds targets the Dockerfile has', () => {
    const targets = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    for (const service of Object.values(services)) {
      if (service.build?.target) expect(targets).toContain(service.build.target);
    }
  });

  it('restarts the broker a bounded number of times, and runs migrations once, apart from it', () => {
    expect(services.broker!.restart).toMatch(/^on-failure:\d+$/);
    const once = Object.entries(services).find(([, s]) =>
      s.command?.join(' ').includes('prisma/migrate.mjs deploy'),
    );
    expect(once?.[1].restart).toBe('no');
    expect(services.broker!.depends_on?.[once![0]]?.condition).toBe(
      'service_completed_successfully',
    );
    expect(services.broker!.command).toBeUndefined(); // the image's CMD: the server only
  });
});

describe('the default stack (docker compose up)', () => {
  const { text, services } = compose('docker-compose.yml');

  it('needs no .env and no variable without a default', () => {
    const references = [...text.matchAll(/\$\{([A-Z0-9_]+)([^}]*)\}/g)];
    for (const [whole, , modifier] of references) {
      expect({ whole, hasDefault: /^:?-/.test(modifier!) }).toEqual({ whole, hasDefault: true });
    }
    for (const service of Object.values(services)) expect(service.env_file).toBeUndefined();
  });

  it('the broker environment it gets is valid once the setup service has run', async () => {
    const state = mkdtempSync(path.join(tmpdir(), 'tb-demo-state-'));
    execFileSync(process.execPath, ['--import', 'tsx', 'demo/docker.ts', 'init'], {
      cwd: root,
      env: { PATH: process.env.PATH, DEMO_STATE_DIR: state },
    });
    const env = Object.fromEntries(
      Object.entries(services.broker!.environment!).map(([name, value]) => [
        name,
        value.replace('/demo-state', state).replace(/\$\{LOG_LEVEL:-(\w+)\}/, '$1'),
      ]),
    );
    const config = loadConfig(env);
    expect(config.encryptionKeys.map((key) => key.id)).toEqual(['demo']);
    const integrations = await loadIntegrationsFile(config.integrationsFile, {
      env,
      catalogue: new ProviderCatalogue(),
      allowInsecureLoopbackProviders: config.allowInsecureLoopbackProviders,
    });
    expect(integrations.map((i) => i.key)).toEqual(['sandbox-crm']);
    // A second init keeps the key: the data stays readable across restarts.
    const key = readFileSync(path.join(state, 'encryption-keys'), 'utf8');
    execFileSync(process.execPath, ['--import', 'tsx', 'demo/docker.ts', 'init'], {
      cwd: root,
      env: { PATH: process.env.PATH, DEMO_STATE_DIR: state },
    });
    expect(readFileSync(path.join(state, 'encryption-keys'), 'utf8')).toBe(key);
  }, 30_000);

  it('runs the demo in the broker network namespace, on the ports the broker publishes', () => {
    expect(services.demo!.network_mode).toBe('service:broker');
    expect(services.broker!.volumes).toContain('demo-state:/demo-state:ro');
    const published = (YAML.parse(text).services.broker.ports as string[]).map(
      (p) => p.split(':')[0],
    );
    expect(published).toEqual(expect.arrayContaining(['3000', '4010', '5173']));
  });
});

describe('the production stack', () => {
  const { text } = compose('docker-compose.production.yml');

  it('names every secret it requires, with how to set it', () => {
    for (const name of ['POSTGRES_PASSWORD', 'PUBLIC_URL', 'ENCRYPTION_KEYS']) {
      expect(text).toMatch(new RegExp(`\\$\\{${name}:\\?set ${name} in \\.env`));
    }
  });
});

describe('Dockerfile', () => {
  const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .filter(Boolean);

  it('copies only what a clean checkout has and the build context keeps', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect({ source, exists: inCheckout(source) }).toEqual({ source, exists: true });
      expect(ignored).not.toContain(source);
    }
  });

  it('serves from a Node 24 image without the migration tooling, with a readiness healthcheck', () => {
    expect(dockerfile).toMatch(/ARG NODE_ALPINE_IMAGE=node:24-alpine(3\.\d+)\n/);
    const alpine = /ARG NODE_ALPINE_IMAGE=node:24-alpine(3\.\d+)/.exec(dockerfile)![1];
    // musl binaries run on the Alpine release they were built for.
    expect(dockerfile).toContain(`ARG ALPINE_IMAGE=alpine:${alpine}`);
    expect(dockerfile).toMatch(/COPY --from=node-binary \/usr\/local\/bin\/node /);
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/health\/ready/);
    expect(existsSync(path.join(root, 'docker/prune-runtime.sh'))).toBe(true);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime\n'));
    expect(runtime).not.toMatch(/COPY --from=build \S+ \/app\/node_modules/);
  });
});
