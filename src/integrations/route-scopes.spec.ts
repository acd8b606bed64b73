import { describe, expect, it } from '@jest/globals';
import { ProviderCatalogue } from '../providers/provider-catalogue.js';
import type { Integration } from './integration.js';
import { parseIntegrations } from './load-integrations.js';
import { missingRouteScopes, proxyRouteOf } from './route-scopes.js';

const catalogue = new ProviderCatalogue();
const integration = (provider: string, extra: Record<string, unknown> = {}): Integration =>
  parseIntegrations(
    JSON.stringify({
      integrations: [{ key: 'i', provider, clientId: 'c', clientSecret: 's', ...extra }],
    }),
    { env: {}, catalogue, allowInsecureLoopbackProviders: false },
  )[0]!;

describe('scopes of proxied routes', () => {
  it('Microsoft: short and URI forms in any case, and the broader ReadWrite, satisfy a read', () => {
    const ms = integration('microsoft', { scopes: ['openid', 'profile', 'offline_access'] });
    const read = (granted: string[]) =>
      missingRouteScopes(ms, granted, 'GET', '/v1.0/me/contacts/AAMk=');
    expect(read(['User.Read'])).toEqual(['Contacts.Read']);
    expect(read(['https://graph.microsoft.com/contacts.read'])).toEqual([]);
    expect(read(['Contacts.ReadWrite'])).toEqual([]);
    // Changing them needs ReadWrite: Read alone will not do.
    expect(missingRouteScopes(ms, ['Contacts.Read'], 'POST', '/v1.0/me/contacts')).toEqual([
      'Contacts.ReadWrite',
    ]);
    // A route nothing declares passes as before.
    expect(missingRouteScopes(ms, [], 'GET', '/v1.0/me/messages')).toEqual([]);
  });

  it('HubSpot: the longest prefix listing the method wins (search is a read, a create a write)', () => {
    const hubspot = integration('hubspot');
    const read = ['oauth', 'crm.objects.contacts.read'];
    expect(missingRouteScopes(hubspot, read, 'GET', '/crm/v3/objects/contacts/42')).toEqual([]);
    expect(missingRouteScopes(hubspot, read, 'HEAD', '/crm/v3/objects/contacts')).toEqual([]);
    expect(missingRouteScopes(hubspot, read, 'POST', '/crm/v3/objects/contacts/search')).toEqual(
      [],
    );
    expect(missingRouteScopes(hubspot, read, 'POST', '/crm/v3/objects/contacts')).toEqual([
      'crm.objects.contacts.write',
    ]);
    expect(missingRouteScopes(hubspot, read, 'GET', '/crm/v3/objects/deals')).toEqual([
      'crm.objects.deals.read',
    ]);
    // Whole segments only: `contactsfoo` is not under `contacts`. OPTIONS is not listed anywhere.
    expect(proxyRouteOf(hubspot.api!.proxyRoutes, 'GET', '/crm/v3/objects/contactsfoo')).toBe(
      undefined,
    );
    expect(proxyRouteOf(hubspot.api!.proxyRoutes, 'OPTIONS', '/crm/v3/objects/deals')).toBe(
      undefined,
    );
  });

  it('cannot be walked around by case, percent-encoding or ; parameters', () => {
    const hubspot = integration('hubspot');
    for (const path of [
      '/CRM/v3/objects/Deals',
      '/crm/v3/objects/%64eals',
      '/crm/v3/objects/deals;x=1/7',
      '/crm/v3/objects/deals/',
    ])
      expect({ path, missing: missingRouteScopes(hubspot, ['oauth'], 'GET', path) }).toEqual({
        path,
        missing: ['crm.objects.deals.read'],
      });
  });

  it('Google and Salesforce: anyOf alternatives, a prefix with a trailing slash', () => {
    const google = integration('google');
    const path = '/v1/people/me/connections';
    expect(missingRouteScopes(google, ['openid'], 'GET', path)).toEqual([
      'https://www.googleapis.com/auth/contacts.readonly',
    ]);
    expect(
      missingRouteScopes(google, ['https://www.googleapis.com/auth/contacts'], 'GET', path),
    ).toEqual([]);
    const salesforce = integration('salesforce');
    expect(missingRouteScopes(salesforce, ['refresh_token'], 'PATCH', '/services/data')).toEqual([
      'api',
    ]);
    expect(missingRouteScopes(salesforce, ['full'], 'GET', '/services/data/v60.0/query')).toEqual(
      [],
    );
  });

  it('an integration declares its own routes, checked before its provider’s', () => {
    const own = integration('hubspot', {
      api: {
        proxyRoutes: [
          { pathPrefix: '/crm/v3/objects/contacts', scopes: ['crm.objects.contacts.sensitive'] },
          { pathPrefix: '/files/v3', methods: ['GET'], scopes: ['files'] },
        ],
      },
    });
    const granted = ['oauth', 'crm.objects.contacts.read'];
    expect(missingRouteScopes(own, granted, 'GET', '/crm/v3/objects/contacts')).toEqual([
      'crm.objects.contacts.sensitive',
    ]);
    expect(missingRouteScopes(own, granted, 'GET', '/files/v3/files')).toEqual(['files']);
    // The provider's longer prefix still wins where it is more specific.
    expect(missingRouteScopes(own, granted, 'POST', '/crm/v3/objects/contacts/search')).toEqual([]);
  });
});
