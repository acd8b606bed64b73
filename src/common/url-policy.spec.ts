import { describe, expect, it } from '@jest/globals';
import { resolveApiBase } from '../integrations/api-base.js';
import { readPath } from './json-path.js';
import { apiHostProblem } from './url-policy.js';

const salesforce = ['*.salesforce.com', '*.force.com'];

describe('API hosts named by a provider', () => {
  it.each([
    ['https://acme.my.salesforce.com', undefined],
    ['https://na1.salesforce.com', undefined],
    ['https://acme--dev.sandbox.my.salesforce.com', undefined],
    ['https://acme.lightning.force.com', undefined],
  ])('%s passes', (url, problem) => {
    expect(apiHostProblem(new URL(url), salesforce, false)).toBe(problem);
  });

  it.each([
    'https://salesforce.com.evil.example',
    'https://evilsalesforce.com',
    'https://salesforce.com',
    'http://acme.my.salesforce.com',
    'https://user:pw@acme.my.salesforce.com',
    'http://127.0.0.2:8080',
    'http://10.0.0.1',
  ])('%s is refused', (url) => {
    expect(apiHostProblem(new URL(url), salesforce, false)).toBeDefined();
  });

  it('loopback passes only when insecure loopback providers are allowed, and only 127.0.0.1/localhost/::1', () => {
    expect(apiHostProblem(new URL('http://127.0.0.1:9000'), salesforce, false)).toBeDefined();
    expect(apiHostProblem(new URL('http://127.0.0.1:9000'), salesforce, true)).toBeUndefined();
    expect(apiHostProblem(new URL('http://localhost:9000'), salesforce, true)).toBeUndefined();
    expect(apiHostProblem(new URL('http://127.0.0.2:9000'), salesforce, true)).toBeDefined();
  });

  it('resolveApiBase keeps only the origin of a token extra, and refuses what is not allowed', () => {
    const api = {
      baseUrlFromExtra: 'instanceUrl',
      allowedHosts: salesforce,
      models: {},
      proxyRoutes: [],
    };
    expect(resolveApiBase(api, { instanceUrl: 'https://acme.my.salesforce.com/x?y' }, false)).toBe(
      'https://acme.my.salesforce.com',
    );
    expect(() => resolveApiBase(api, { instanceUrl: 'https://evil.example' }, false)).toThrow(
      expect.objectContaining({ code: 'api_host_not_allowed' }),
    );
    expect(() => resolveApiBase(api, {}, false)).toThrow(/no "instanceUrl"/);
    expect(() => resolveApiBase(api, { instanceUrl: 'not a url' }, false)).toThrow(/not a URL/);
    expect(
      resolveApiBase(
        { baseUrl: 'https://api.example.com/v2/', allowedHosts: [], models: {}, proxyRoutes: [] },
        {},
        false,
      ),
    ).toBe('https://api.example.com/v2');
  });
});

describe('readPath', () => {
  it('reads dotted paths, array indexes, and whole keys that contain dots', () => {
    const body = {
      paging: { next: { after: 'x' } },
      emails: [{ value: 'a@b' }],
      '@odata.nextLink': 'https://n',
      'a.b': { c: 1 },
    };
    expect(readPath(body, 'paging.next.after')).toBe('x');
    expect(readPath(body, 'emails.0.value')).toBe('a@b');
    expect(readPath(body, '@odata.nextLink')).toBe('https://n');
    expect(readPath(body, 'a.b.c')).toBe(1);
    expect(readPath(body, 'constructor')).toBeUndefined();
    expect(readPath(body, 'paging.missing.deep')).toBeUndefined();
  });
});
