import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { dropParsedSecrets, loadConfig } from './load-config.js';

const valid = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  DATABASE_URL: 'postgresql://u:p@db:5432/broker',
  PUBLIC_URL: 'https://broker.example.com/',
  ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  INTEGRATIONS_FILE: '/config/integrations.yaml',
  ...extra,
});

describe('the internal listener and the metrics token in the config', () => {
  it('has one listener and an open /metrics by default', () => {
    const config = loadConfig(valid());
    expect(config.http.internal).toBeUndefined();
    expect(config.metricsToken).toBeUndefined();
  });

  it('takes INTERNAL_PORT, with INTERNAL_HOST defaulting to HOST', () => {
    expect(loadConfig(valid({ HOST: '10.0.0.5', INTERNAL_PORT: '3001' })).http.internal).toEqual({
      host: '10.0.0.5',
      port: 3001,
    });
    expect(
      loadConfig(valid({ INTERNAL_HOST: '127.0.0.1', INTERNAL_PORT: '9000' })).http.internal,
    ).toEqual({ host: '127.0.0.1', port: 9000 });
  });

  it.each([
    [{ INTERNAL_HOST: '127.0.0.1' }, /^INTERNAL_PORT: is required when INTERNAL_HOST is set$/],
    [{ INTERNAL_PORT: '3000' }, /^INTERNAL_PORT: must differ from PORT$/],
    [{ INTERNAL_PORT: 'x' }, /^INTERNAL_PORT: /],
    [{ METRICS_TOKEN: 'short' }, /^METRICS_TOKEN: must be at least 16 characters$/],
  ])('refuses %j', (extra, message) => {
    expect(() => loadConfig(valid(extra))).toThrow(message);
  });

  it('reads METRICS_TOKEN from METRICS_TOKEN_FILE, keeps it secret, and drops it from the environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-metrics-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, 'scrape-me-please-0123456789\n');
    const config = loadConfig(valid({ METRICS_TOKEN_FILE: file }));
    expect(config.metricsToken?.reveal()).toBe('scrape-me-please-0123456789');
    expect(inspect(config)).not.toContain('scrape-me-please');
    const env = valid({ METRICS_TOKEN: 'scrape-me-please-0123456789' });
    dropParsedSecrets(env);
    expect(env.METRICS_TOKEN).toBeUndefined();
  });
});
