import { describe, expect, it } from '@jest/globals';
import { ProviderCatalogue } from '../providers/provider-catalogue.js';
import { parseIntegrations } from './load-integrations.js';

const options = (env: NodeJS.ProcessEnv = {}, allowInsecureLoopbackProviders = false) => ({
  env: { CLIENT_SECRET: 's3cret-value', ...env },
  catalogue: new ProviderCatalogue(),
  allowInsecureLoopbackProviders,
});

const acme = `
integrations:
  - key: acme
    provider: oauth2
    clientId: client-1
    clientSecret: \${CLIENT_SECRET}
    authorizationUrl: https://auth.acme.example/authorize
    tokenUrl: https://auth.acme.example/token
    scopes: [contacts:read, offline_access]
    requiredScopes: [contacts:read]
    api:
      baseUrl: https://api.acme.example
      models:
        contacts:
          path: /v1/contacts
          itemsPath: data
          idField: id
          updatedAtField: updated_at
          pagination: { type: cursor, cursorParam: cursor, nextCursorPath: next_cursor, limitParam: limit, limit: 100 }
    sync: { models: [contacts], every: 1h }
`;

describe('parseIntegrations', () => {
  it('resolves an entry over its provider defaults, with ${ENV} secrets', () => {
    const [integration] = parseIntegrations(acme, options());
    expect(integration).toMatchObject({
      key: 'acme',
      clientId: 'client-1',
      scopes: ['contacts:read', 'offline_access'],
      requiredScopes: ['contacts:read'],
      scopeSeparator: ' ',
      tokenEndpointAuthMethod: 'client_secret_basic',
      account: { type: 'end_user' },
    });
    expect(integration!.provider.name).toBe('oauth2');
    expect(integration!.clientSecret.reveal()).toBe('s3cret-value');
    expect(JSON.stringify(integration)).not.toContain('s3cret-value');
  });

  it('reads JSON as well as YAML', () => {
    const json = JSON.stringify({
      integrations: [
        {
          key: 'corp',
          provider: 'oidc',
          issuer: 'https://login.example.com/',
          clientId: 'c',
          clientSecret: 'x',
          scopes: ['openid'],
        },
      ],
    });
    const [integration] = parseIntegrations(json, options());
    expect(integration).toMatchObject({
      key: 'corp',
      issuer: 'https://login.example.com',
      account: { type: 'id_token' },
    });
  });

  it.each([
    [
      'a missing ${VAR}',
      acme.replace('${CLIENT_SECRET}', '${NOPE}'),
      /integrations\[0\]\.clientSecret: environment variable NOPE is not set/,
    ],
    [
      'an unknown provider',
      acme.replace('provider: oauth2', 'provider: crmx'),
      /integrations\[0\]\.provider: unknown provider "crmx"/,
    ],
    [
      'a missing tokenUrl',
      acme.replace(/\n    tokenUrl:.*/, ''),
      /integrations\[0\]\.tokenUrl: is required for provider "oauth2"/,
    ],
    [
      'an http provider URL',
      acme.replace('https://auth.acme.example/token', 'http://auth.acme.example/token'),
      /integrations\[0\]\.tokenUrl: must be https/,
    ],
    [
      'an unknown field',
      acme.replace('    scopes:', '    scope: x\n    scopes:'),
      /integrations\[0\]: Unrecognized key: "scope"/,
    ],
    [
      'an unknown pagination type',
      acme.replace('type: cursor', 'type: magic'),
      /integrations\[0\]\.api\.models\.contacts\.pagination\.type/,
    ],
    [
      'a model without path',
      acme.replace('          path: /v1/contacts\n', ''),
      /integrations\[0\]\.api\.models\.contacts\.path/,
    ],
    [
      'a sync model that is not described',
      acme.replace('models: [contacts]', 'models: [deals]'),
      /integrations\[0\]\.sync\.models\[0\]: model "deals" is not described/,
    ],
    [
      'requiredScopes outside scopes',
      acme.replace('requiredScopes: [contacts:read]', 'requiredScopes: [deals:read]'),
      /integrations\[0\]\.requiredScopes: must be a subset/,
    ],
    [
      'a duplicate key',
      `${acme}${acme.replace('integrations:\n', '')}`,
      /integrations\[1\]\.key: "acme" is used twice/,
    ],
    ['broken YAML', 'integrations: [', /is not valid YAML or JSON/],
  ])('stops on %s, naming the field', (_what, text, message) => {
    expect(() => parseIntegrations(text, options(), 'INTEGRATIONS_FILE')).toThrow(message);
  });

  it('a built-in provider needs only credentials; URL overrides keep the rest of its definition', () => {
    const yaml = `
integrations:
  - key: sf-sandbox
    provider: salesforce
    clientId: c
    clientSecret: \${CLIENT_SECRET}
    scopes: [api, refresh_token]
    tokenUrl: https://test.salesforce.com/services/oauth2/token
  - key: hs
    provider: hubspot
    clientId: c
    clientSecret: s
    api:
      baseUrl: https://hubspot-proxy.example.com
      models:
        tickets: { path: /crm/v3/objects/tickets, itemsPath: results, pagination: { type: link } }
`;
    const [salesforce, hubspot] = parseIntegrations(yaml, options());
    expect(salesforce).toMatchObject({
      tokenUrl: 'https://test.salesforce.com/services/oauth2/token',
      authorizationUrl: 'https://login.salesforce.com/services/oauth2/authorize',
      tokenEndpointAuthMethod: 'client_secret_post',
      defaultTokenLifetimeSeconds: 7200,
      tokenResponse: { extras: { instanceUrl: 'instance_url' } },
      api: { baseUrlFromExtra: 'instanceUrl', allowedHosts: ['*.salesforce.com', '*.force.com'] },
    });
    // The override pins the host; the provider's models stay, the integration's are added.
    expect(hubspot!.api).toMatchObject({ baseUrl: 'https://hubspot-proxy.example.com' });
    expect(hubspot!.api!.baseUrlFromExtra).toBeUndefined();
    expect(Object.keys(hubspot!.api!.models)).toEqual([
      'contacts',
      'companies',
      'deals',
      'tickets',
    ]);
  });

  it('a generic integration can take its API host from a token extra, within allowed hosts', () => {
    const yaml = acme.replace(
      '      baseUrl: https://api.acme.example',
      '      baseUrlFromExtra: apiDomain\n      allowedHosts: ["*.acme.example"]',
    );
    expect(() => parseIntegrations(yaml, options())).toThrow(
      /api\.baseUrlFromExtra: "apiDomain" is not a token extra/,
    );
    const [integration] = parseIntegrations(
      yaml.replace('    scopes:', '    tokenExtras: { apiDomain: api_domain }\n    scopes:'),
      options(),
    );
    expect(integration!.api).toMatchObject({
      baseUrlFromExtra: 'apiDomain',
      allowedHosts: ['*.acme.example'],
    });
  });

  it('provider settings fill the URLs (the Microsoft tenant), with a default, a pattern, and no unknown names', () => {
    const entry = (extra = '') => `
integrations:
  - key: ms
    provider: microsoft
    clientId: c
    clientSecret: s
    scopes: [openid, profile, offline_access, Contacts.Read]
${extra}`;
    const [common] = parseIntegrations(entry(), options());
    expect(common!.authorizationUrl).toBe(
      'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    );
    expect(common!.idTokenIssuer).toBe('https://login.microsoftonline.com/{tenantid}/v2.0');
    // The account (tid/oid) needs `profile` in the ID token.
    expect(() => parseIntegrations(entry().replace('profile, ', ''), options())).toThrow(
      /scopes: must include profile/,
    );
    const [tenant] = parseIntegrations(
      entry('    settings: { tenant: 8eaef023-2b34-4da1-9baa-8bc8c9d6a490 }'),
      options(),
    );
    expect(tenant!.tokenUrl).toBe(
      'https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token',
    );
    expect(() => parseIntegrations(entry('    settings: { tenant: "a/b" }'), options())).toThrow(
      /settings\.tenant: does not look like/,
    );
    expect(() => parseIntegrations(entry('    settings: { tennant: x }'), options())).toThrow(
      /settings\.tennant: is not a setting of "microsoft"/,
    );
    // Dynamics 365: another API of the provider, on the organisation's host, which must be Microsoft's.
    const [dynamics] = parseIntegrations(
      entry('    api: { variant: dynamics, baseUrl: "https://contoso.crm4.dynamics.com" }'),
      options(),
    );
    expect(Object.keys(dynamics!.api!.models)).toEqual(['contacts', 'companies']);
    expect(() =>
      parseIntegrations(
        entry('    api: { variant: dynamics, baseUrl: "https://contoso.example.com" }'),
        options(),
      ),
    ).toThrow(/api\.baseUrl: contoso\.example\.com is not one of \*\.dynamics\.com/);
    expect(() => parseIntegrations(entry('    api: { variant: sharepoint }'), options())).toThrow(
      /api\.variant: "sharepoint" is not an API of "microsoft"/,
    );
  });

  it('allows http provider URLs on loopback only when explicitly enabled', () => {
    const loopback = acme.replaceAll('https://auth.acme.example', 'http://127.0.0.1:9000');
    expect(() => parseIntegrations(loopback, options())).toThrow(
      /ALLOW_INSECURE_LOOPBACK_PROVIDERS/,
    );
    expect(parseIntegrations(loopback, options({}, true))).toHaveLength(1);
    const remote = acme.replaceAll('https://auth.acme.example', 'http://auth.acme.example');
    expect(() => parseIntegrations(remote, options({}, true))).toThrow(/must be https/);
  });
});
