import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from './config-error.js';
import { dropParsedSecrets, loadConfig } from './load-config.js';

const key = () => `k1:${randomBytes(32).toString('base64')}`;
const valid = (): NodeJS.ProcessEnv => ({
  DATABASE_URL: 'postgresql://u:p@db:5432/broker',
  PUBLIC_URL: 'https://broker.example.com/',
  ENCRYPTION_KEYS: key(),
  INTEGRATIONS_FILE: '/config/integrations.yaml',
});

describe('loadConfig', () => {
  it('parses a valid environment with defaults', () => {
    const config = loadConfig(valid());
    expect(config.role).toBe('all');
    expect(config.http).toEqual({
      host: '0.0.0.0',
      port: 3000,
      publicUrl: 'https://broker.example.com',
    });
    expect(config.redis.prefix).toBe('tb:');
    expect(config.tokens.defaultMinValiditySeconds).toBe(60);
    expect(config.allowInsecureLoopbackProviders).toBe(false);
    expect(config.encryptionKeys.map((k) => k.id)).toEqual(['k1']);
  });

  it.each([
    ['DATABASE_URL', undefined, /^DATABASE_URL: is required$/],
    ['DATABASE_URL', 'mysql://x', /^DATABASE_URL: must be a postgresql/],
    ['PUBLIC_URL', undefined, /^PUBLIC_URL: is required$/],
    ['PUBLIC_URL', 'ftp://x', /^PUBLIC_URL: /],
    ['ENCRYPTION_KEYS', undefined, /^ENCRYPTION_KEYS: is required$/],
    ['ENCRYPTION_KEYS', 'k1:tooshort', /^ENCRYPTION_KEYS: key "k1" must be 32 random bytes/],
    ['PORT', '70000', /^PORT: /],
    ['ROLE', 'both', /^ROLE: /],
    [
      'ALLOWED_RETURN_URLS',
      'https://ok.example,not a url',
      /^ALLOWED_RETURN_URLS: "not a url" is not an http\(s\) URL$/,
    ],
    ['ALLOW_INSECURE_LOOPBACK_PROVIDERS', 'maybe', /^ALLOW_INSECURE_LOOPBACK_PROVIDERS: /],
    [
      'WEBHOOK_URL',
      'https://hooks.example.com',
      /^WEBHOOK_SECRET: is required when WEBHOOK_URL is set$/,
    ],
    [
      'WEBHOOK_SECRET',
      'whsec_not*base64*at*all',
      /^WEBHOOK_SECRET: a whsec_ secret must be base64 of at least 16 bytes$/,
    ],
    ['EVENT_RETENTION_DAYS', '2', /^EVENT_RETENTION_DAYS: /],
  ])('stops on %s=%j with a message naming it', (name, value, message) => {
    const env = { ...valid(), [name]: value };
    if (value === undefined) delete env[name];
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never puts a secret value in an error message', () => {
    const material = randomBytes(20).toString('base64');
    try {
      loadConfig({ ...valid(), ENCRYPTION_KEYS: `k1:${material}` });
    } catch (error) {
      expect((error as Error).message).not.toContain(material);
    }
    expect.hasAssertions();
  });

  it('keeps secrets out of string conversion, JSON and inspect', () => {
    const env = valid();
    const config = loadConfig(env);
    const shown = [
      String(config.databaseUrl),
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
    ].join('\n');
    expect(shown).not.toContain('u:p@db');
    expect(shown).not.toContain(env.ENCRYPTION_KEYS!.slice(3, 20));
    expect(config.databaseUrl.reveal()).toBe(env.DATABASE_URL);
  });

  describe('NAME_FILE (Docker secrets)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-config-'));
    const file = (name: string, content: string) => {
      const at = path.join(dir, name);
      writeFileSync(at, content);
      return at;
    };

    it('reads a secret from the named file, without its trailing newline', () => {
      const keys = key();
      const env: NodeJS.ProcessEnv = {
        ...valid(),
        ENCRYPTION_KEYS_FILE: file('keys', `${keys}\n`),
      };
      delete env.ENCRYPTION_KEYS;
      expect(loadConfig(env).encryptionKeys.map((k) => k.id)).toEqual(['k1']);
    });

    it.each([
      [
        'both forms set',
        () => ({ ENCRYPTION_KEYS_FILE: file('both', key()) }),
        /^ENCRYPTION_KEYS: set ENCRYPTION_KEYS or ENCRYPTION_KEYS_FILE, not both$/,
      ],
      [
        'a missing file',
        () => ({ ENCRYPTION_KEYS: '', ENCRYPTION_KEYS_FILE: path.join(dir, 'absent') }),
        /^ENCRYPTION_KEYS_FILE: cannot read .*absent \(ENOENT\)$/,
      ],
      [
        'an empty file',
        () => ({ ENCRYPTION_KEYS: '', ENCRYPTION_KEYS_FILE: file('empty', '\n') }),
        /^ENCRYPTION_KEYS_FILE: .*empty is empty$/,
      ],
    ])('stops on %s', (_what, extra, message) => {
      expect(() => loadConfig({ ...valid(), ...extra() })).toThrow(message);
    });
  });

  it('drops the parsed keys from the environment, keeping what the config holds', () => {
    const env: NodeJS.ProcessEnv = {
      ...valid(),
      WEBHOOK_URL: 'https://hooks.example.com',
      WEBHOOK_SECRET: 'x'.repeat(20),
    };
    const config = loadConfig(env);
    dropParsedSecrets(env);
    expect(env.ENCRYPTION_KEYS).toBeUndefined();
    expect(env.WEBHOOK_SECRET).toBeUndefined();
    expect(config.encryptionKeys).toHaveLength(1);
    expect(config.webhook?.secret.reveal()).toBe('x'.repeat(20));
  });
});
