import { describe, expect, it } from '@jest/globals';
import { hubspotProvider } from './catalogue/hubspot.provider.js';
import { builtInProviders } from './catalogue/index.js';
import { ProviderCatalogue, validateProvider } from './provider-catalogue.js';
import type { ProviderDefinitionInput } from './provider-definition.js';

/** A deep copy with one change, for the cases the schema must refuse. */
function changed(edit: (copy: any) => void): ProviderDefinitionInput {
  const copy = structuredClone(hubspotProvider) as any;
  edit(copy);
  return copy;
}

describe('the provider catalogue', () => {
  it('validates every built-in provider, with unique names', () => {
    const catalogue = new ProviderCatalogue();
    expect(catalogue.names()).toEqual(builtInProviders.map((p) => p.name));
    expect(new Set(catalogue.names()).size).toBe(builtInProviders.length);
    expect(catalogue.names()).toEqual(expect.arrayContaining(['hubspot', 'oauth2', 'oidc']));
  });

  it('declares the scopes of every model of a built-in API with a fixed scope vocabulary', () => {
    const undeclared = builtInProviders.flatMap((provider) =>
      Object.entries(provider.api?.models ?? {})
        .filter(([, model]) => !model.scopes?.length)
        .map(([name]) => `${provider.name}.${name}`),
    );
    // Dynamics (an apiVariant) is left out: its scope names the organisation's host.
    expect(undeclared).toEqual([]);
  });

  it.each([
    ['a missing field', (p: any) => delete p.quirks, /provider "hubspot": quirks: /],
    ['a missing auth field', (p: any) => delete p.auth.pkce, /auth\.pkce/],
    [
      'a non-https token URL',
      (p: any) => (p.auth.tokenUrl = 'http://api.hubapi.com/oauth/v3/token'),
      /auth\.tokenUrl: must be an https URL/,
    ],
    [
      'a non-https API base URL',
      (p: any) => (p.api.baseUrl = 'http://api.hubapi.com'),
      /api\.baseUrl: must be an https URL/,
    ],
    [
      'an oauth2 provider without a token URL it does not ask the integration for',
      (p: any) => delete p.auth.tokenUrl,
      /auth\.tokenUrl: is required/,
    ],
    [
      'an API host outside the allowed hosts',
      (p: any) => (p.api.allowedHosts = ['*.example.com']),
      /api\.allowedHosts: must include the host of baseUrl/,
    ],
    [
      'an API base from a token extra without allowed hosts',
      (p: any) => {
        delete p.api.baseUrl;
        p.api.baseUrlFromExtra = 'hubId';
        p.api.allowedHosts = [];
      },
      /allowedHosts: is required when the host is not fixed/,
    ],
    [
      'a model whose incremental request does not use {since}',
      (p: any) => (p.api.models.contacts.incremental.body = {}),
      /api\.models\.contacts\.incremental: must use \{since\}/,
    ],
    [
      'an unknown token error meaning',
      (p: any) => (p.token.errors[0].means = 'maybe'),
      /token\.errors\.0\.means/,
    ],
    ['an unknown field', (p: any) => (p.colour = 'orange'), /Unrecognized key/],
    [
      'a model scope that is not a scope token',
      (p: any) => (p.api.models.contacts.scopes = ['crm objects']),
      /api\.models\.contacts\.scopes\.0/,
    ],
    [
      'alternatives of one scope',
      (p: any) => (p.api.models.contacts.scopes = [{ anyOf: ['crm.objects.contacts.read'] }]),
      /api\.models\.contacts\.scopes\.0/,
    ],
  ])('refuses %s, naming the provider and the field', (_what, edit, message) => {
    expect(() => validateProvider(changed(edit))).toThrow(message);
    expect(() => new ProviderCatalogue([changed(edit)])).toThrow(message);
  });
});
