import { describe, expect, it } from '@jest/globals';
import { ProviderCatalogue } from '../providers/provider-catalogue.js';
import type { Integration } from './integration.js';
import { parseIntegrations } from './load-integrations.js';
import { lostScopes, missingModelScopes, missingScopes } from './scopes.js';

const catalogue = new ProviderCatalogue();
const integration = (provider: string, scopes: string[]): Integration =>
  parseIntegrations(
    JSON.stringify({
      integrations: [{ key: 'i', provider, clientId: 'c', clientSecret: 's', scopes }],
    }),
    { env: {}, catalogue, allowInsecureLoopbackProviders: false },
  )[0]!;

describe('granted-scope check', () => {
  it('Microsoft: offline_access and openid are never echoed; URI and short forms match, in any case', () => {
    const ms = integration('microsoft', [
      'openid',
      'profile',
      'offline_access',
      'https://graph.microsoft.com/Contacts.Read',
      'User.Read',
    ]);
    expect(missingScopes(ms, ['Contacts.Read', 'user.read'])).toEqual([]);
    expect(missingScopes(ms, ['User.Read'])).toEqual(['https://graph.microsoft.com/Contacts.Read']);
    // `.default` asks for whatever was consented: the answer never lists it.
    const dynamics = integration('microsoft', [
      'openid',
      'profile',
      'offline_access',
      'https://contoso.crm.dynamics.com/.default',
    ]);
    expect(
      missingScopes(dynamics, ['https://contoso.crm.dynamics.com/user_impersonation']),
    ).toEqual([]);
  });

  it('Google: email and profile are granted in their URL forms', () => {
    const google = integration('google', [
      'openid',
      'email',
      'https://www.googleapis.com/auth/contacts.readonly',
    ]);
    expect(
      missingScopes(google, [
        'openid',
        'https://www.googleapis.com/auth/userinfo.email',
        'https://www.googleapis.com/auth/contacts.readonly',
      ]),
    ).toEqual([]);
    expect(
      missingScopes(google, ['openid', 'https://www.googleapis.com/auth/userinfo.email']),
    ).toEqual(['https://www.googleapis.com/auth/contacts.readonly']);
  });

  it('elsewhere, names match exactly', () => {
    const hubspot = integration('hubspot', ['oauth', 'crm.objects.contacts.read']);
    expect(missingScopes(hubspot, ['oauth', 'CRM.objects.contacts.read'])).toEqual([
      'crm.objects.contacts.read',
    ]);
  });
});

describe('scopes the synced models need', () => {
  it('Microsoft: a model needing Contacts.Read is satisfied by the URI form or by Contacts.ReadWrite, in any case', () => {
    const ms = integration('microsoft', ['openid', 'profile', 'offline_access', 'User.Read']);
    expect(missingModelScopes(ms, ['User.Read'])).toEqual(['Contacts.Read']);
    expect(missingModelScopes(ms, ['https://graph.microsoft.com/contacts.read'])).toEqual([]);
    expect(missingModelScopes(ms, ['Contacts.ReadWrite'])).toEqual([]);
  });

  it('Google: the broader contacts scope will do for contacts.readonly', () => {
    const google = integration('google', ['openid', 'email']);
    expect(missingModelScopes(google, ['openid'])).toEqual([
      'https://www.googleapis.com/auth/contacts.readonly',
    ]);
    expect(missingModelScopes(google, ['https://www.googleapis.com/auth/contacts'])).toEqual([]);
  });

  it('HubSpot: each enabled model names its own scope, once', () => {
    const hubspot = integration('hubspot', ['oauth', 'crm.objects.contacts.read']);
    expect(missingModelScopes(hubspot, ['oauth', 'crm.objects.contacts.read'])).toEqual([
      'crm.objects.companies.read',
      'crm.objects.deals.read',
    ]);
    expect(missingModelScopes(hubspot, ['oauth'], ['contacts'])).toEqual([
      'crm.objects.contacts.read',
    ]);
  });

  it('a refresh answering fewer scopes lost those (compared in canonical form)', () => {
    const ms = integration('microsoft', ['openid', 'profile', 'offline_access', 'User.Read']);
    expect(
      lostScopes(ms, ['User.Read', 'Contacts.Read'], ['https://graph.microsoft.com/user.read']),
    ).toEqual(['Contacts.Read']);
    expect(lostScopes(ms, ['User.Read'], ['User.Read', 'Mail.Read'])).toEqual([]);
    // Echoed at the code exchange, never promised afterwards: not drift.
    expect(lostScopes(ms, ['User.Read', 'offline_access'], ['User.Read'])).toEqual([]);
  });
});
