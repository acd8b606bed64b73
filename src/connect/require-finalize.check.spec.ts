import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { parseIntegrations } from '../integrations/load-integrations.js';
import { ProviderCatalogue } from '../providers/provider-catalogue.js';
import { crossUserLinkWarnings, RequireFinalizeCheck } from './require-finalize.check.js';

const entry = (key: string, extra = '') => `
  - key: ${key}
    provider: oidc
    issuer: https://login.example.com
    clientId: c
    clientSecret: s
    scopes: [openid]${extra}`;

const parse = (...entries: string[]) =>
  parseIntegrations(`integrations:${entries.join('')}`, {
    env: {},
    catalogue: new ProviderCatalogue(),
    allowInsecureLoopbackProviders: false,
  });

describe('requireFinalize', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('is on when the integrations file does not mention it', () => {
    const [silent, on, off] = parse(
      entry('silent'),
      entry('on', '\n    requireFinalize: true'),
      entry('off', '\n    requireFinalize: false'),
    );
    expect(silent!.requireFinalize).toBe(true);
    expect(on!.requireFinalize).toBe(true);
    expect(off!.requireFinalize).toBe(false);
  });

  it('warns once per integration that turns it off, naming the integration and the risk', () => {
    const integrations = parse(
      entry('silent'),
      entry('legacy-a', '\n    requireFinalize: false'),
      entry('on', '\n    requireFinalize: true'),
      entry('legacy-b', '\n    requireFinalize: false'),
    );
    const warnings = crossUserLinkWarnings(integrations);
    expect(warnings.map((w) => w.integration)).toEqual(['legacy-a', 'legacy-b']);
    expect(warnings[0]!.msg).toMatch(/^integration "legacy-a" sets requireFinalize: false/);
    expect(warnings[0]!.msg).toMatch(
      /a connect link opened by someone else attaches their CRM account to the link owner/,
    );
    expect(warnings[0]!.msg).toMatch(/POST \/v1\/connect-sessions\/:id\/finalize/);
  });

  it('the start-up check logs those warnings, and nothing when every integration finalizes', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    new RequireFinalizeCheck(
      new IntegrationRegistry(parse(entry('silent'))),
    ).onApplicationBootstrap();
    expect(warn).not.toHaveBeenCalled();

    new RequireFinalizeCheck(
      new IntegrationRegistry(
        parse(entry('silent'), entry('legacy', '\n    requireFinalize: false')),
      ),
    ).onApplicationBootstrap();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatchObject({
      integration: 'legacy',
      msg: expect.stringContaining('requireFinalize: false'),
    });
  });
});
