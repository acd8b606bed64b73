import { isIncremental } from '../providers/api-model.schema.js';
import type { ProviderDefinition } from '../providers/provider-definition.js';
import type { ProviderDto } from './responses.schema.js';

/** A catalogue entry as `GET /v1/providers` shows it (the catalogue holds no secrets). */
export function providerView(p: ProviderDefinition): ProviderDto {
  return {
    name: p.name,
    displayName: p.displayName,
    kind: p.kind,
    docsUrl: p.docsUrl,
    // Where users go to consent: the authorization URL's host, or the issuer's (discovery).
    authorizationHost: hostOf(p.auth.authorizationUrl ?? p.auth.issuer),
    authorizationUrl: p.auth.authorizationUrl ?? null,
    issuer: p.auth.issuer ?? p.token.idTokenIssuer ?? null,
    tokenUrl: p.auth.tokenUrl ?? null,
    revocationUrl: p.revocation === 'none' ? null : (p.auth.revocationUrl ?? null),
    scopeSeparator: p.auth.scopeSeparator,
    tokenEndpointAuthMethod: p.auth.tokenEndpointAuthMethod,
    pkce: p.auth.pkce,
    defaultTokenLifetimeSeconds: p.auth.defaultTokenLifetimeSeconds,
    refreshTokenIdleDays: p.auth.refreshTokenIdleDays,
    tokenExtras: Object.keys(p.token.extras),
    account: p.account.type,
    api: p.api && {
      baseUrl: p.api.baseUrl ?? null,
      baseUrlFromExtra: p.api.baseUrlFromExtra ?? null,
      allowedHosts: p.api.allowedHosts,
      models: Object.entries(p.api.models).map(([name, model]) => ({
        name,
        incremental: isIncremental(model),
        tombstones: !!model.deletions,
        fields: Object.keys(model.fields ?? {}),
      })),
    },
    apiVariants: Object.keys(p.apiVariants),
    settings: Object.fromEntries(
      Object.entries(p.settings).map(([name, setting]) => [
        name,
        { default: setting.default ?? null, description: setting.description },
      ]),
    ),
    requiredIntegrationFields: p.requiredIntegrationFields,
    quirks: p.quirks,
  };
}

function hostOf(url: string | undefined): string | null {
  return url ? new URL(url).host : null;
}
