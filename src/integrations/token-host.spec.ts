import { describe, expect, it } from '@jest/globals';
import type { Integration } from './integration.js';
import { onHost, storedTokenHost, tokenHostFromCallback } from './token-host.js';

const zoho = {
  tokenHostFromCallback: {
    param: 'accounts-server',
    extra: 'accountsServer',
    allowedHosts: ['accounts.zoho.com', 'accounts.zoho.eu'],
  },
} as unknown as Integration;
const params = (value: string) => new URLSearchParams({ code: 'c', 'accounts-server': value });

describe('a connection’s own accounts server', () => {
  it('comes from the redirect, only if it is one of the provider’s (https), as an origin', () => {
    expect(tokenHostFromCallback(zoho, params('https://accounts.zoho.eu'), false)).toBe(
      'https://accounts.zoho.eu',
    );
    expect(tokenHostFromCallback(zoho, new URLSearchParams({ code: 'c' }), false)).toBeUndefined();
    for (const bad of ['https://accounts.zoho.eu.evil.example', 'http://accounts.zoho.eu', 'nope'])
      expect(() => tokenHostFromCallback(zoho, params(bad), false)).toThrow(
        expect.objectContaining({ code: 'api_host_not_allowed' }),
      );
    expect(tokenHostFromCallback(zoho, params('http://127.0.0.1:9000'), true)).toBe(
      'http://127.0.0.1:9000',
    );
  });

  it('is checked again when read back from the stored tokens', () => {
    expect(storedTokenHost(zoho, { accountsServer: 'https://accounts.zoho.com' }, false)).toBe(
      'https://accounts.zoho.com',
    );
    expect(() =>
      storedTokenHost(zoho, { accountsServer: 'https://evil.example' }, false),
    ).toThrow();
    expect(storedTokenHost(zoho, {}, false)).toBeUndefined();
  });

  it('moves the token URL onto it, path and query kept', () => {
    expect(onHost('https://accounts.zoho.com/oauth/v2/token', 'https://accounts.zoho.eu')).toBe(
      'https://accounts.zoho.eu/oauth/v2/token',
    );
    expect(onHost('http://127.0.0.1:1/oauth/v2/token?x=1', 'http://127.0.0.1:2')).toBe(
      'http://127.0.0.1:2/oauth/v2/token?x=1',
    );
    expect(onHost('https://a.example/t', undefined)).toBe('https://a.example/t');
  });
});
