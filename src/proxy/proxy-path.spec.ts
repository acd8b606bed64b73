import { describe, expect, it } from '@jest/globals';
import { AppError } from '../common/errors/app-error.js';
import { proxyTargetOf, routeFormOf } from './proxy-path.js';

const ID = '5b0b7c1e-3a5f-4f0e-9d7e-1c2b3a4d5e6f';
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
};

describe('proxy paths', () => {
  it('keeps the path and the query exactly as sent', () => {
    expect(
      proxyTargetOf(`/v1/proxy/${ID}/crm/v3/objects/contacts?limit=5&after=a%20b`, ID),
    ).toEqual({
      path: '/crm/v3/objects/contacts',
      query: 'limit=5&after=a%20b',
      routeForm: '/crm/v3/objects/contacts',
    });
    expect(proxyTargetOf(`/v1/proxy/${ID}/services/data/v60.0/sobjects/Account/`, ID).path).toBe(
      '/services/data/v60.0/sobjects/Account/',
    );
    // Colons inside a path are ordinary (Google's `:batchGet`, Graph's `root:/file:`).
    expect(code(() => proxyTargetOf(`/v1/proxy/${ID}/v4/spreadsheets/x/values:batchGet`, ID))).toBe(
      'accepted',
    );
    expect(code(() => proxyTargetOf(`/v1/proxy/${ID}/files/na%C3%AFve%20name.txt`, ID))).toBe(
      'accepted',
    );
  });

  it.each([
    '/v1/../admin',
    '/..',
    '/v1/.',
    '/v1/%2e%2e/admin',
    '/v1/%2E%2E/admin',
    '/v1/%2E./admin',
    '/v1/.%2e/admin',
    '/v1/%2e/admin',
    '/v1/%252e%252e/admin',
    '/v1%2fadmin',
    '/v1%2Fadmin',
    '/v1%5cadmin',
    '/v1%5Cadmin',
    '/v1\\admin',
    '//evil.example',
    '//evil.example/x',
    '/v1//x',
    '/https://evil.example/x',
    '/http:%2F%2Fevil.example',
    '/javascript:alert(1)',
    '/mailto:x',
    '/v1/x%00',
    '/v1/x%0d%0a',
    '/v1/x\u0000',
    '/v1/x y',
    '/v1/%zz',
    '/',
  ])('refuses %j', (path) => {
    expect(code(() => proxyTargetOf(`/v1/proxy/${ID}${path}`, ID))).toBe('proxy_path_invalid');
  });

  it('refuses control characters and fragments in the query', () => {
    expect(code(() => proxyTargetOf(`/v1/proxy/${ID}/v1/x?a=1\r\nb`, ID))).toBe(
      'proxy_path_invalid',
    );
    expect(code(() => proxyTargetOf(`/v1/proxy/${ID}/v1/x?a=1#frag`, ID))).toBe(
      'proxy_path_invalid',
    );
  });

  it('refuses a connection id that is not written plainly', () => {
    expect(code(() => proxyTargetOf(`/v1/proxy/${ID.replace('5b', '%35b')}/v1/x`, ID))).toBe(
      'proxy_path_invalid',
    );
  });

  it('audits the endpoint, not the record: ids and values become :id', () => {
    expect(routeFormOf('/crm/v3/objects/contacts/12345')).toBe('/crm/v3/objects/contacts/:id');
    expect(routeFormOf('/services/data/v60.0/sobjects/Account/001xx000003DGb2AAG')).toBe(
      '/services/data/v60.0/sobjects/Account/:id',
    );
    expect(routeFormOf('/v1/persons/search/ada%40example.test')).toBe('/v1/persons/search/:id');
  });
});
